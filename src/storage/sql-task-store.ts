/**
 * The TaskStore on PostgreSQL and PGlite. Hot paths (claim, finish, progress,
 * leases, tree inserts) are set-based raw SQL in src/storage/sql/, one module per
 * statement group; whole-tree operations (cancel, re-run, delete) lock the tree's
 * task rows and apply the pure rules of core/tree-ops.
 */
import { ApflowError, ErrorCode } from "../core/errors.js";
import type { NodeCapabilities } from "../core/placement.js";
import type {
  CancelResult,
  ClaimResult,
  FinishResult,
  LeaderFence,
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
import type { JsonObject, Task, TaskEvent, TaskEventType, TaskSchedule, TaskStatus } from "../core/types.js";
import { addDelta, appendEvents } from "./sql/append-events.js";
import { claimReady } from "./sql/claim.js";
import { leaderFence } from "./sql/cluster.js";
import { finishOutcomes } from "./sql/finish.js";
import { insertTree } from "./sql/insert-tree.js";
import { releaseLeases, renewLeases } from "./sql/leases.js";
import { writeProgress } from "./sql/progress.js";
import {
  claimDue,
  selectScheduled,
  writeSchedule,
  writeScheduleEnabled,
  writeScheduleRecord,
} from "./sql/schedules.js";
import { settleDependents } from "./sql/settle-dependents.js";
import { loadTasks, TASK_COLUMNS } from "./sql/task-row.js";
import type { Sql, SqlQueryable } from "./sql.js";

export class SqlTaskStore implements TaskStore {
  constructor(private readonly sql: Sql) {}

  async findTrees(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.sql.query<{ id: string; tree_id: string }>(
      "SELECT id, tree_id FROM tasks WHERE id = ANY($1::text[])",
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.tree_id]));
  }

  async findIdempotencyKeys(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.sql.query<{ idempotency_key: string }>(
      "SELECT idempotency_key FROM tasks WHERE idempotency_key = ANY($1::text[])",
      [keys],
    );
    return new Set(rows.map((r) => r.idempotency_key));
  }

  createTree(plan: TreePlan, queue: boolean): Promise<TaskEvent[]> {
    return this.sql.transaction((tx) => insertTree(tx, plan, queue));
  }

  async getTask(id: string): Promise<Task | null> {
    const [task] = await loadTasks(this.sql, `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`, [id]);
    return task ?? null;
  }

  getTree(treeId: string): Promise<Task[]> {
    return loadTasks(this.sql, `SELECT ${TASK_COLUMNS} FROM tasks WHERE tree_id = $1 ORDER BY depth, position`, [
      treeId,
    ]);
  }

  listTasks(query: TaskQuery): Promise<Task[]> {
    const { where, params } = filter(query);
    params.push(query.limit ?? null, query.offset ?? 0);
    return loadTasks(
      this.sql,
      `SELECT ${TASK_COLUMNS} FROM tasks ${where} ORDER BY created_at DESC, id DESC
        LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
  }

  async countTasks(query: TaskQuery): Promise<number> {
    const { where, params } = filter(query);
    const [row] = await this.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks ${where}`, params);
    return Number(row?.n ?? 0);
  }

  async listEvents(treeId: string, afterSeq: number, limit: number): Promise<TaskEvent[]> {
    const rows = await this.sql.query<Record<string, unknown>>(
      `SELECT tree_id, seq, task_id, type, status, progress, attempt, message, data, at
         FROM task_events WHERE tree_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [treeId, afterSeq, limit],
    );
    return rows.map((r) => ({
      treeId: r.tree_id as string,
      seq: Number(r.seq),
      taskId: r.task_id as string,
      type: r.type as TaskEvent["type"],
      status: r.status as TaskEvent["status"],
      progress: Number(r.progress),
      attempt: Number(r.attempt),
      message: (r.message as string | null) ?? null,
      data: (r.data as TaskEvent["data"]) ?? null,
      at: r.at instanceof Date ? r.at : new Date(r.at as string),
    }));
  }

  async openTaskCount(treeId: string): Promise<number> {
    const [row] = await this.sql.query<{ open_tasks: number }>("SELECT open_tasks FROM task_trees WHERE id = $1", [
      treeId,
    ]);
    return Number(row?.open_tasks ?? 0);
  }

  requeue(taskId: string, options: RequeueOptions): Promise<TaskEvent[]> {
    return this.sql.transaction(async (tx) => {
      const index = await lockTree(tx, taskId);
      if (options.idleOnly) assertTreeIdle(index);
      const plan = planRequeue(index, taskId, options.rerunAll);
      if (plan.reset.length > 0) {
        await tx.query(
          `UPDATE tasks SET status = 'pending', result = NULL, error = NULL, error_code = NULL, progress = 0,
                  attempt = 0, started_at = NULL, completed_at = NULL, not_before = NULL, updated_at = now()
            WHERE id = ANY($1::text[])`,
          [plan.reset.map((t) => t.id)],
        );
      }
      const queued = plan.queue.map((t) => t.id);
      if (queued.length > 0) {
        // Recount what each queued task still waits for, now that resets are applied.
        await tx.query(
          `UPDATE tasks t SET queued = true, updated_at = now(),
                  open_deps = (SELECT count(*) FROM task_dependencies d JOIN tasks x ON x.id = d.depends_on_id
                                WHERE d.task_id = t.id AND x.status IN ('pending', 'in_progress'))
            WHERE t.id = ANY($1::text[])`,
          [queued],
        );
      }
      const treeId = index.get(taskId).treeId;
      if (queued.length > 0) await tx.query("UPDATE task_trees SET started_at = NULL WHERE id = $1", [treeId]);
      return appendEvents(
        tx,
        plan.announce.map(({ task, data }) => ({
          treeId,
          taskId: task.id,
          type: "queued" as const,
          status: "pending" as const,
          progress: 0,
          attempt: 0,
          message: null,
          data,
        })),
        new Map([[treeId, plan.reset.length]]),
      );
    });
  }

  updateTask(taskId: string, patch: TaskPatch): Promise<TaskEvent[]> {
    return this.sql.transaction(async (tx) => {
      const [task] = await loadTasks(tx, `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1 FOR UPDATE`, [taskId]);
      if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${taskId}" not found`);
      assertEditable(task);
      const columns = {
        name: "name",
        inputs: "inputs",
        params: "params",
        priority: "priority",
        maxAttempts: "max_attempts",
        timeoutMs: "timeout_ms",
      } as const;
      const sets: string[] = [];
      const params: unknown[] = [taskId];
      for (const [field, value] of Object.entries(patch) as [keyof TaskPatch, unknown][]) {
        const json = field === "inputs" || field === "params";
        params.push(json ? JSON.stringify(value) : value);
        sets.push(`${columns[field]} = $${params.length}${json ? "::jsonb" : ""}`);
      }
      await tx.query(`UPDATE tasks SET ${[...sets, "updated_at = now()"].join(", ")} WHERE id = $1`, params);
      return appendEvents(tx, [
        {
          treeId: task.treeId,
          taskId,
          type: "updated",
          status: task.status,
          progress: task.progress,
          attempt: task.attempt,
          message: null,
          data: { fields: Object.keys(patch) },
        },
      ]);
    });
  }

  addEvent(taskId: string, type: TaskEventType, message: string, data: JsonObject | null = null): Promise<TaskEvent[]> {
    return this.sql.transaction(async (tx) => {
      const [task] = await tx.query<{ tree_id: string; status: TaskStatus; progress: number; attempt: number }>(
        "SELECT tree_id, status, progress, attempt FROM tasks WHERE id = $1",
        [taskId],
      );
      if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${taskId}" not found`);
      return appendEvents(tx, [
        {
          treeId: task.tree_id,
          taskId,
          type,
          status: task.status,
          progress: Number(task.progress),
          attempt: Number(task.attempt),
          message,
          data,
        },
      ]);
    });
  }

  claim(node: NodeCapabilities, limit: number, leaseMs: number): Promise<ClaimResult> {
    return claimReady(this.sql, node, limit, leaseMs);
  }

  finish(outcomes: Outcome[]): Promise<FinishResult> {
    return finishOutcomes(this.sql, outcomes);
  }

  reportProgress(updates: ProgressUpdate[]): Promise<TaskEvent[]> {
    return this.sql.transaction((tx) => writeProgress(tx, updates));
  }

  renewLeases(owner: string, leases: { taskId: string; leaseToken: string }[], leaseMs: number): Promise<string[]> {
    return renewLeases(this.sql, owner, leases, leaseMs);
  }

  cancel(taskId: string, message: string): Promise<CancelResult> {
    return this.sql.transaction(async (tx) => {
      const index = await lockTree(tx, taskId);
      const doomed = planCancel(index, taskId);
      if (doomed.length === 0) {
        const task = index.get(taskId);
        throw new ApflowError(
          ErrorCode.INVALID_TRANSITION,
          `task "${task.name}" is already ${task.status} and has nothing left to cancel`,
        );
      }
      const ids = doomed.map((t) => t.id);
      const rows = await tx.query<{ id: string; tree_id: string; attempt: number; progress: number }>(
        `UPDATE tasks SET status = 'cancelled', error = $2, error_code = $3, completed_at = now(), updated_at = now(),
                queued = false, not_before = NULL, lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
          WHERE id = ANY($1::text[])
          RETURNING id, tree_id, attempt, progress`,
        [ids, message, ErrorCode.CANCELLED],
      );
      // Required dependents are in `doomed` already; optional ones just stop waiting.
      const settled = await settleDependents(tx, [], ids);
      const delta = new Map<string, number>();
      addDelta(delta, index.get(taskId).treeId, -rows.length);
      const events = await appendEvents(
        tx,
        [
          ...rows.map((r) => ({
            treeId: r.tree_id,
            taskId: r.id,
            type: "cancelled" as const,
            status: "cancelled" as const,
            progress: Number(r.progress),
            attempt: Number(r.attempt),
            message,
            data: null,
          })),
          ...settled.events,
        ],
        delta,
      );
      return { events, running: doomed.filter((t) => t.status === "in_progress").map((t) => t.id) };
    });
  }

  releaseOwner(owner: string): Promise<TaskEvent[]> {
    return this.sql.transaction((tx) => releaseLeases(tx, { owner }));
  }

  reclaimExpired(limit: number, fence?: LeaderFence): Promise<TaskEvent[]> {
    return this.sql.transaction(async (tx) => {
      if (fence && !(await leaderFence(tx, fence.nodeId, fence.term))) return [];
      return releaseLeases(tx, { expiredLimit: limit });
    });
  }

  deleteSubtree(taskId: string): Promise<void> {
    return this.sql.transaction(async (tx) => {
      const index = await lockTree(tx, taskId);
      const doomed = planDelete(index, taskId);
      const root = index.get(taskId);
      if (root.parentId === null) {
        // No row refers to another through a foreign key (each cost a check per row
        // written: see the tree_insert_checks migration), so every table is cleared here.
        await tx.query("DELETE FROM task_events WHERE tree_id = $1", [root.treeId]);
        await tx.query("DELETE FROM task_dependencies d USING tasks t WHERE t.tree_id = $1 AND d.task_id = t.id", [
          root.treeId,
        ]);
        await tx.query("DELETE FROM tasks WHERE tree_id = $1", [root.treeId]);
        await tx.query("DELETE FROM task_trees WHERE id = $1", [root.treeId]);
        return;
      }
      const ids = doomed.map((t) => t.id);
      await tx.query("DELETE FROM task_events WHERE task_id = ANY($1::text[])", [ids]);
      // planDelete refused the subtree if a task outside depends on it, so its edges
      // are the ones from its own tasks.
      await tx.query("DELETE FROM task_dependencies WHERE task_id = ANY($1::text[])", [ids]);
      await tx.query("DELETE FROM tasks WHERE id = ANY($1::text[])", [ids]);
      await tx.query("UPDATE task_trees SET open_tasks = open_tasks - $2 WHERE id = $1", [root.treeId, doomed.length]);
    });
  }

  setSchedule(taskId: string, schedule: TaskSchedule | null): Promise<TaskEvent[]> {
    return this.sql.transaction((tx) => writeSchedule(tx, taskId, schedule));
  }

  setScheduleEnabled(taskId: string, enabled: boolean, nextRunAt: Date | null): Promise<TaskEvent[]> {
    return this.sql.transaction((tx) => writeScheduleEnabled(tx, taskId, enabled, nextRunAt));
  }

  listScheduled(query: ScheduleQuery): Promise<Task[]> {
    return selectScheduled(this.sql, query);
  }

  claimDueSchedules(now: Date, limit: number, fence?: LeaderFence): Promise<Task[]> {
    return this.sql.transaction(async (tx) => {
      if (fence && !(await leaderFence(tx, fence.nodeId, fence.term))) return [];
      return claimDue(tx, now, limit);
    });
  }

  recordSchedule(taskId: string, record: ScheduleRecord, fence?: LeaderFence): Promise<TaskEvent[]> {
    return this.sql.transaction(async (tx) => {
      if (fence && !(await leaderFence(tx, fence.nodeId, fence.term))) return [];
      return writeScheduleRecord(tx, taskId, record);
    });
  }

  async close(): Promise<void> {
    // The Sql connection belongs to the Database that opened it.
  }
}

/**
 * Locks every task row of the tree containing `taskId` (in id order, so two
 * whole-tree operations cannot deadlock) and indexes it for the tree rules.
 */
async function lockTree(tx: SqlQueryable, taskId: string): Promise<TreeIndex> {
  const [found] = await tx.query<{ tree_id: string }>("SELECT tree_id FROM tasks WHERE id = $1", [taskId]);
  if (!found) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${taskId}" not found`);
  await tx.query("SELECT id FROM tasks WHERE tree_id = $1 ORDER BY id FOR UPDATE", [found.tree_id]);
  return new TreeIndex(
    await loadTasks(tx, `SELECT ${TASK_COLUMNS} FROM tasks WHERE tree_id = $1 ORDER BY depth, position`, [
      found.tree_id,
    ]),
  );
}

function filter(query: TaskQuery): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    params.push(value);
    clauses.push(clause.replace("?", `$${params.length}`));
  };
  if (query.status?.length) add("status = ANY(?::text[])", query.status);
  if (query.executor) add("executor = ?", query.executor);
  if (query.rootOnly) clauses.push("parent_id IS NULL");
  if (query.parentId) add("parent_id = ?", query.parentId);
  if (query.treeId) add("tree_id = ?", query.treeId);
  if (query.name) add("name = ?", query.name);
  if (query.createdAfter) add("created_at >= ?", query.createdAfter);
  if (query.createdBefore) add("created_at < ?", query.createdBefore);
  return { where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
}
