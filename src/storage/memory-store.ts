/**
 * A TaskStore in memory: the reference implementation of the storage contract,
 * used by the engine's unit tests with a fake clock, and by library users who want
 * no persistence. Same rules as the SQL store (the contract suite runs on both).
 */

import { randomUUID } from "node:crypto";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { type NodeCapabilities, placementRefusal } from "../core/placement.js";
import type {
  CancelResult,
  ClaimResult,
  Clock,
  FinishResult,
  NewTask,
  Outcome,
  ProgressUpdate,
  RequeueOptions,
  ScheduleQuery,
  ScheduleRecord,
  TaskQuery,
  TaskStore,
  TreePlan,
} from "../core/ports.js";
import { assertEditable, assertTreeIdle, planCancel, planDelete, planRequeue, TreeIndex } from "../core/tree-ops.js";
import type { TaskPatch } from "../core/tree-plan.js";
import {
  isTerminal,
  type JsonObject,
  type Task,
  type TaskEvent,
  type TaskEventType,
  type TaskSchedule,
} from "../core/types.js";

interface TreeRow {
  eventSeq: number;
  startedAt: Date | null;
  openTasks: number;
  events: TaskEvent[];
}

interface Row extends Task {
  openDeps: number;
  leaseToken: string | null;
}

export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, Row>();
  private readonly trees = new Map<string, TreeRow>();
  /** Reverse dependency edges: task id -> ids of the tasks that depend on it. */
  private readonly dependents = new Map<string, Set<string>>();
  private closed = false;

  constructor(private readonly clock: Clock) {}

  async findTrees(ids: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const id of ids) {
      const task = this.tasks.get(id);
      if (task) found.set(id, task.treeId);
    }
    return found;
  }

  async findIdempotencyKeys(keys: string[]): Promise<Set<string>> {
    const wanted = new Set(keys);
    const used = new Set<string>();
    for (const task of this.tasks.values()) {
      if (task.idempotencyKey && wanted.has(task.idempotencyKey)) used.add(task.idempotencyKey);
    }
    return used;
  }

  async createTree(plan: TreePlan, queue: boolean): Promise<TaskEvent[]> {
    this.assertOpen();
    const conflict = plan.tasks.find((t) => this.tasks.has(t.id));
    if (conflict) throw new ApflowError(ErrorCode.DUPLICATE_ID, `a task with id "${conflict.id}" already exists`);
    const now = this.clock.now();
    this.trees.set(plan.rootId, { eventSeq: 0, startedAt: null, openTasks: plan.tasks.length, events: [] });
    const events: TaskEvent[] = [];
    for (const spec of plan.tasks) {
      const row = newRow(spec, now, queue);
      this.tasks.set(row.id, row);
      for (const dep of row.dependencies) {
        const set = this.dependents.get(dep.id) ?? new Set<string>();
        set.add(row.id);
        this.dependents.set(dep.id, set);
      }
      events.push(this.event(row, "created", null, { queued: queue }));
    }
    return events;
  }

  async getTask(id: string): Promise<Task | null> {
    const task = this.tasks.get(id);
    return task ? publicTask(task) : null;
  }

  async getTree(treeId: string): Promise<Task[]> {
    return [...this.tasks.values()]
      .filter((t) => t.treeId === treeId)
      .sort((a, b) => a.depth - b.depth || a.position - b.position)
      .map(publicTask);
  }

  async listTasks(query: TaskQuery): Promise<Task[]> {
    const matching = this.matching(query);
    const offset = query.offset ?? 0;
    return matching.slice(offset, query.limit === undefined ? undefined : offset + query.limit).map(publicTask);
  }

  async countTasks(query: TaskQuery): Promise<number> {
    return this.matching(query).length;
  }

  async listEvents(treeId: string, afterSeq: number, limit: number): Promise<TaskEvent[]> {
    const tree = this.trees.get(treeId);
    if (!tree) return [];
    return tree.events
      .filter((e) => e.seq > afterSeq)
      .slice(0, limit)
      .map(({ treeFinished: _finished, treeStarted: _started, remote: _remote, ...stored }) => stored);
  }

  async openTaskCount(treeId: string): Promise<number> {
    return this.trees.get(treeId)?.openTasks ?? 0;
  }

  async requeue(taskId: string, options: RequeueOptions): Promise<TaskEvent[]> {
    const index = this.index(taskId);
    if (options.idleOnly) assertTreeIdle(index);
    const plan = planRequeue(index, taskId, options.rerunAll);
    for (const task of plan.reset) {
      Object.assign(this.row(task.id), {
        status: "pending",
        result: null,
        error: null,
        errorCode: null,
        progress: 0,
        attempt: 0,
        startedAt: null,
        completedAt: null,
        notBefore: null,
      } satisfies Partial<Row>);
    }
    for (const task of plan.queue) {
      const row = this.row(task.id);
      row.queued = true;
      row.updatedAt = this.clock.now();
    }
    const events = plan.announce.map(({ task, data }) => this.event(this.row(task.id), "queued", null, data));
    for (const task of plan.queue) {
      const row = this.row(task.id);
      row.openDeps = row.dependencies.filter((d) => !isTerminal(this.row(d.id).status)).length;
    }
    const tree = this.trees.get(index.get(taskId).treeId)!;
    if (plan.queue.length > 0) tree.startedAt = null;
    tree.openTasks = index.tasks.filter((t) => !isTerminal(this.row(t.id).status)).length;
    return events;
  }

  async updateTask(taskId: string, patch: TaskPatch): Promise<TaskEvent[]> {
    const row = this.row(taskId);
    assertEditable(row);
    Object.assign(row, structuredClone(patch), { updatedAt: this.clock.now() });
    return [this.event(row, "updated", null, { fields: Object.keys(patch) })];
  }

  async addEvent(taskId: string, type: TaskEventType, message: string, data: JsonObject | null = null) {
    return [this.event(this.row(taskId), type, message, data)];
  }

  async claim(node: NodeCapabilities, limit: number, leaseMs: number): Promise<ClaimResult> {
    const owner = node.nodeId;
    this.assertOpen();
    const now = this.clock.now();
    const ready = [...this.tasks.values()]
      .filter(
        (t) =>
          t.status === "pending" &&
          t.queued &&
          t.openDeps === 0 &&
          (t.notBefore === null || t.notBefore.getTime() <= now.getTime()) &&
          (node.trees === undefined || node.trees.includes(t.treeId)) &&
          placementRefusal(t.executor, t.placement, node) === null,
      )
      .sort(claimOrder)
      .slice(0, limit);
    const events: TaskEvent[] = [];
    const tasks = ready.map((row) => {
      Object.assign(row, {
        status: "in_progress",
        attempt: row.attempt + 1,
        leaseOwner: owner,
        leaseToken: randomUUID(),
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
        startedAt: now,
        notBefore: null,
        updatedAt: now,
      } satisfies Partial<Row>);
      const event = this.event(row, "started", null, { node: owner });
      const tree = this.trees.get(row.treeId)!;
      if (tree.startedAt === null) {
        tree.startedAt = now;
        event.treeStarted = true;
      }
      events.push(event);
      return {
        task: publicTask(row),
        leaseToken: row.leaseToken!,
        dependencies: row.dependencies.map((d) => {
          const dep = this.row(d.id);
          return { id: dep.id, name: dep.name, required: d.required, status: dep.status, result: dep.result };
        }),
      };
    });
    return { tasks, events };
  }

  async finish(outcomes: Outcome[]): Promise<FinishResult> {
    this.assertOpen();
    const now = this.clock.now();
    const events: TaskEvent[] = [];
    const lost: string[] = [];
    for (const outcome of outcomes) {
      const row = this.tasks.get(outcome.taskId);
      if (row?.status !== "in_progress" || row.leaseToken !== outcome.leaseToken) {
        lost.push(outcome.taskId);
        continue;
      }
      clearLease(row);
      row.updatedAt = now;
      if (outcome.kind === "completed") {
        Object.assign(row, { status: "completed", result: outcome.result, progress: 1, completedAt: now });
        Object.assign(row, { error: null, errorCode: null, queued: false });
        events.push(this.event(row, "completed", null, null));
        this.settleDependents(row, events);
      } else if (outcome.retryInMs !== undefined) {
        Object.assign(row, { status: "pending", error: outcome.error, errorCode: outcome.errorCode });
        row.notBefore = new Date(now.getTime() + outcome.retryInMs);
        events.push(
          this.event(row, "retrying", outcome.error, { errorCode: outcome.errorCode, retryInMs: outcome.retryInMs }),
        );
      } else {
        Object.assign(row, { status: "failed", error: outcome.error, errorCode: outcome.errorCode });
        Object.assign(row, { completedAt: now, queued: false });
        events.push(this.event(row, "failed", outcome.error, { errorCode: outcome.errorCode }));
        this.settleDependents(row, events);
      }
    }
    return { events: this.markFinished(events), lost };
  }

  async reportProgress(updates: ProgressUpdate[]): Promise<TaskEvent[]> {
    const events: TaskEvent[] = [];
    for (const update of updates) {
      const row = this.tasks.get(update.taskId);
      if (row?.status !== "in_progress" || row.leaseToken !== update.leaseToken) continue;
      row.progress = update.progress;
      row.updatedAt = this.clock.now();
      events.push(this.event(row, "progress", update.message, null));
    }
    return events;
  }

  async renewLeases(owner: string, leases: { taskId: string; leaseToken: string }[], leaseMs: number) {
    const lost: string[] = [];
    const expires = new Date(this.clock.now().getTime() + leaseMs);
    for (const lease of leases) {
      const row = this.tasks.get(lease.taskId);
      if (row && row.status === "in_progress" && row.leaseToken === lease.leaseToken && row.leaseOwner === owner) {
        row.leaseExpiresAt = expires;
      } else {
        lost.push(lease.taskId);
      }
    }
    return lost;
  }

  async cancel(taskId: string, message: string): Promise<CancelResult> {
    const index = this.index(taskId);
    const doomed = planCancel(index, taskId);
    if (doomed.length === 0) {
      const task = index.get(taskId);
      throw new ApflowError(
        ErrorCode.INVALID_TRANSITION,
        `task "${task.name}" is already ${task.status} and has nothing left to cancel`,
      );
    }
    const now = this.clock.now();
    const events: TaskEvent[] = [];
    const running = doomed.filter((t) => t.status === "in_progress").map((t) => t.id);
    for (const task of doomed) {
      const row = this.row(task.id);
      clearLease(row);
      Object.assign(row, { status: "cancelled", error: message, errorCode: ErrorCode.CANCELLED });
      Object.assign(row, { completedAt: now, updatedAt: now, queued: false, notBefore: null });
      events.push(this.event(row, "cancelled", message, null));
    }
    this.trees.get(index.get(taskId).treeId)!.openTasks -= doomed.length;
    // Optional dependents outside the cancelled set just stop waiting.
    for (const task of doomed) {
      for (const dependent of index.dependents.get(task.id) ?? []) {
        const row = this.row(dependent.task.id);
        if (row.status === "pending") row.openDeps--;
      }
    }
    return { events: this.markFinished(events), running };
  }

  async releaseOwner(owner: string): Promise<TaskEvent[]> {
    return this.release((t) => t.leaseOwner === owner, "its node restarted or stopped");
  }

  async reclaimExpired(limit: number): Promise<TaskEvent[]> {
    const now = this.clock.now().getTime();
    let count = 0;
    return this.release(
      (t) => t.leaseExpiresAt !== null && t.leaseExpiresAt.getTime() < now && count++ < limit,
      "its lease expired",
    );
  }

  async deleteSubtree(taskId: string): Promise<void> {
    const index = this.index(taskId);
    const doomed = planDelete(index, taskId);
    const root = index.get(taskId);
    for (const task of doomed) {
      this.tasks.delete(task.id);
      this.dependents.delete(task.id);
      for (const dep of task.dependencies) this.dependents.get(dep.id)?.delete(task.id);
    }
    const tree = this.trees.get(root.treeId)!;
    if (root.parentId === null) {
      this.trees.delete(root.treeId);
    } else {
      tree.openTasks -= doomed.length;
      const gone = new Set(doomed.map((t) => t.id));
      tree.events = tree.events.filter((e) => !gone.has(e.taskId));
    }
  }

  async setSchedule(taskId: string, schedule: TaskSchedule | null): Promise<TaskEvent[]> {
    const row = this.row(taskId);
    if (schedule && row.parentId !== null) {
      throw new ApflowError(
        ErrorCode.VALIDATION_ERROR,
        `task "${taskId}" is not a root: only a root carries a schedule`,
      );
    }
    row.schedule = structuredClone(schedule);
    row.updatedAt = this.clock.now();
    return [this.event(row, "updated", null, { fields: ["schedule"] })];
  }

  async setScheduleEnabled(taskId: string, enabled: boolean, nextRunAt: Date | null): Promise<TaskEvent[]> {
    const row = this.row(taskId);
    if (!row.schedule) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${taskId}" has no schedule`);
    row.schedule = { ...row.schedule, enabled, nextRunAt };
    row.updatedAt = this.clock.now();
    return [this.event(row, "updated", null, { fields: ["schedule"] })];
  }

  async listScheduled(query: ScheduleQuery): Promise<Task[]> {
    const after = query.after;
    return [...this.tasks.values()]
      .filter((t) => t.schedule !== null && (query.enabled === undefined || t.schedule.enabled === query.enabled))
      .sort(scheduleOrder)
      .filter((t) => !after || scheduleOrder(t, { id: after.id, schedule: { nextRunAt: after.nextRunAt } }) > 0)
      .slice(0, query.limit)
      .map(publicTask);
  }

  async claimDueSchedules(now: Date, limit: number): Promise<Task[]> {
    return [...this.tasks.values()]
      .filter((t) => t.schedule?.enabled && t.schedule.nextRunAt !== null && t.schedule.nextRunAt <= now)
      .sort(scheduleOrder)
      .slice(0, limit)
      .map(publicTask);
  }

  async recordSchedule(taskId: string, record: ScheduleRecord): Promise<TaskEvent[]> {
    const row = this.tasks.get(taskId);
    if (!row) return [];
    const schedule = row.schedule;
    if (schedule) {
      if (record.type === "schedule_run") {
        schedule.runCount++;
        schedule.lastRunAt = record.at;
      }
      if (schedule.nextRunAt?.getTime() === record.expectedNextRunAt?.getTime()) schedule.nextRunAt = record.nextRunAt;
      row.updatedAt = this.clock.now();
    }
    return [this.event(row, record.type, record.message, record.data)];
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Flags the last event of each tree these events left with no open task. */
  private markFinished(events: TaskEvent[]): TaskEvent[] {
    const treeIds = new Set(events.map((e) => e.treeId));
    for (const treeId of treeIds) {
      if (this.trees.get(treeId)?.openTasks !== 0) continue;
      const last = events.findLast((e) => e.treeId === treeId);
      if (last) last.treeFinished = true;
    }
    return events;
  }

  private release(match: (task: Row) => boolean, why: string): TaskEvent[] {
    const events: TaskEvent[] = [];
    for (const row of this.tasks.values()) {
      if (row.status !== "in_progress" || !match(row)) continue;
      clearLease(row);
      row.status = "pending";
      row.updatedAt = this.clock.now();
      events.push(this.event(row, "lease_expired", `returned to the queue: ${why}`, null));
    }
    return events;
  }

  /** A task reached a terminal state: its dependents stop waiting for it, or fail with it. */
  private settleDependents(settled: Row, events: TaskEvent[]): void {
    this.trees.get(settled.treeId)!.openTasks--;
    const now = this.clock.now();
    for (const id of this.dependents.get(settled.id) ?? []) {
      const row = this.row(id);
      if (row.status !== "pending") continue;
      const edge = row.dependencies.find((d) => d.id === settled.id);
      if (!edge) continue;
      if (edge.required && settled.status !== "completed") {
        const message = `required dependency "${settled.name}" ${settled.status}`;
        Object.assign(row, { status: "failed", error: message, errorCode: ErrorCode.DEPENDENCY_FAILED });
        Object.assign(row, { completedAt: now, updatedAt: now, queued: false, notBefore: null });
        events.push(this.event(row, "failed", message, { errorCode: ErrorCode.DEPENDENCY_FAILED }));
        this.settleDependents(row, events);
      } else {
        row.openDeps--;
      }
    }
  }

  private event(row: Row, type: TaskEventType, message: string | null, data: JsonObject | null): TaskEvent {
    const tree = this.trees.get(row.treeId)!;
    const event: TaskEvent = {
      treeId: row.treeId,
      seq: ++tree.eventSeq,
      taskId: row.id,
      type,
      status: row.status,
      progress: row.progress,
      attempt: row.attempt,
      message,
      data,
      at: this.clock.now(),
    };
    tree.events.push(event);
    return event;
  }

  private matching(query: TaskQuery): Row[] {
    return [...this.tasks.values()]
      .filter(
        (t) =>
          (!query.status || query.status.includes(t.status)) &&
          (!query.executor || t.executor === query.executor) &&
          (!query.rootOnly || t.parentId === null) &&
          (!query.parentId || t.parentId === query.parentId) &&
          (!query.treeId || t.treeId === query.treeId) &&
          (!query.name || t.name === query.name) &&
          (!query.createdAfter || t.createdAt >= query.createdAfter) &&
          (!query.createdBefore || t.createdAt < query.createdBefore),
      )
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  private index(taskId: string): TreeIndex {
    const task = this.tasks.get(taskId);
    if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${taskId}" not found`);
    return new TreeIndex([...this.tasks.values()].filter((t) => t.treeId === task.treeId).map(publicTask));
  }

  private row(id: string): Row {
    const row = this.tasks.get(id);
    if (!row) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    return row;
  }

  private assertOpen(): void {
    if (this.closed) throw new ApflowError(ErrorCode.CLOSED, "the task store is closed");
  }
}

function newRow(spec: NewTask, now: Date, queued: boolean): Row {
  return {
    ...spec,
    inputs: structuredClone(spec.inputs),
    params: structuredClone(spec.params),
    dependencies: spec.dependencies.map((d) => ({ ...d })),
    status: "pending",
    progress: 0,
    result: null,
    error: null,
    errorCode: null,
    attempt: 0,
    queued,
    notBefore: null,
    leaseOwner: null,
    leaseToken: null,
    leaseExpiresAt: null,
    schedule: null,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
    openDeps: spec.dependencies.length,
  };
}

function clearLease(row: Row): void {
  row.leaseOwner = null;
  row.leaseToken = null;
  row.leaseExpiresAt = null;
}

/** (nextRunAt, id), tasks without a next run last: the order of scheduled-task listings and claims. */
function scheduleOrder(
  a: { id: string; schedule: Pick<TaskSchedule, "nextRunAt"> | null },
  b: { id: string; schedule: Pick<TaskSchedule, "nextRunAt"> | null },
): number {
  const at = a.schedule?.nextRunAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const bt = b.schedule?.nextRunAt?.getTime() ?? Number.POSITIVE_INFINITY;
  return at - bt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function claimOrder(a: Row, b: Row): number {
  return (
    a.priority - b.priority || a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function publicTask(row: Row): Task {
  const { openDeps: _openDeps, leaseToken: _leaseToken, ...task } = row;
  return structuredClone(task);
}
