/**
 * Pure decisions about whole trees: what a cancel, a re-run, a delete or a copy
 * touches. Stores call these on a tree they have locked, so every store applies
 * exactly the same rules.
 */
import { ApflowError, ErrorCode } from "./errors.js";
import type { NewTask, TreePlan } from "./ports.js";
import { isTerminal, type JsonObject, type Task } from "./types.js";

/** Children and dependents of every task of a tree, by id. */
export class TreeIndex {
  readonly byId = new Map<string, Task>();
  readonly children = new Map<string, Task[]>();
  readonly dependents = new Map<string, { task: Task; required: boolean }[]>();

  constructor(readonly tasks: readonly Task[]) {
    for (const task of tasks) this.byId.set(task.id, task);
    for (const task of tasks) {
      if (task.parentId) push(this.children, task.parentId, task);
      for (const dep of task.dependencies) push(this.dependents, dep.id, { task, required: dep.required });
    }
  }

  get(id: string): Task {
    const task = this.byId.get(id);
    if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    return task;
  }

  /** The task and all its descendants, parents first. */
  subtree(id: string): Task[] {
    const out: Task[] = [];
    const queue = [this.get(id)];
    while (queue.length > 0) {
      const task = queue.shift()!;
      out.push(task);
      queue.push(...(this.children.get(task.id) ?? []));
    }
    return out;
  }
}

/**
 * Cancelling a task cancels it, every descendant, and every task that requires one
 * of those (transitively); of all these, the ones not yet terminal change. Optional
 * dependents are not cancelled: to them a cancelled dependency is a failed optional
 * one, and they run without it.
 */
export function planCancel(index: TreeIndex, taskId: string): Task[] {
  const visited = new Set<string>();
  const queue = [index.get(taskId)];
  const out: Task[] = [];
  while (queue.length > 0) {
    const task = queue.shift()!;
    if (visited.has(task.id)) continue;
    visited.add(task.id);
    if (!isTerminal(task.status)) out.push(task);
    queue.push(...(index.children.get(task.id) ?? []));
    // A completed task keeps its result: its dependents are not affected.
    if (task.status !== "completed") {
      for (const { task: dependent, required } of index.dependents.get(task.id) ?? []) {
        if (required) queue.push(dependent);
      }
    }
  }
  return out;
}

export interface RequeuePlan {
  /** Terminal tasks going back to pending (result, error, attempts cleared). */
  reset: Task[];
  /** Every task that will be pending and asked to run (includes `reset`). */
  queue: Task[];
  /**
   * The tasks that get a "queued" event: every reset task (its status changes), and
   * the task asked to run (or the first queued one), whose event says how many
   * tasks were queued. Tasks already pending that merely join the run get none:
   * on a first run that would be one event per task saying nothing new, a burst
   * of 10,000 stored and delivered events for a 10,000-task tree.
   */
  announce: { task: Task; data: JsonObject | null }[];
}

/**
 * Re-running a task runs its subtree and, transitively, the dependencies those need
 * that are not completed. Completed tasks keep their results unless `rerunAll`
 * (which applies to the subtree; a completed dependency outside it is reused). A
 * completed task with an idempotency key never runs again, even with `rerunAll`.
 * Tasks in progress are left alone.
 */
export function planRequeue(index: TreeIndex, taskId: string, rerunAll: boolean): RequeuePlan {
  const inSubtree = new Set(index.subtree(taskId).map((t) => t.id));
  const chosen = new Set<string>();
  const stack = [...inSubtree];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (chosen.has(id)) continue;
    const task = index.get(id);
    const rerun = task.status !== "completed" || (rerunAll && inSubtree.has(id) && task.idempotencyKey === null);
    if (!rerun) continue;
    chosen.add(id);
    for (const dep of task.dependencies) stack.push(dep.id);
  }
  const reset: Task[] = [];
  const queue: Task[] = [];
  for (const task of index.tasks) {
    if (!chosen.has(task.id) || task.status === "in_progress") continue;
    if (task.status !== "pending") reset.push(task);
    queue.push(task);
  }
  const subject = queue.find((t) => t.id === taskId) ?? queue[0];
  const announce = queue
    .filter((t) => t === subject || t.status !== "pending")
    .map((task) => ({ task, data: task === subject ? { queuedTasks: queue.length } : null }));
  return { reset, queue, announce };
}

/**
 * Only a subtree whose tasks are all pending can be deleted, and only when no task
 * outside it depends on one inside (that would leave a dangling dependency).
 */
export function planDelete(index: TreeIndex, taskId: string): Task[] {
  const subtree = index.subtree(taskId);
  const ids = new Set(subtree.map((t) => t.id));
  const notPending = subtree.filter((t) => t.status !== "pending");
  if (notPending.length > 0) {
    throw new ApflowError(
      ErrorCode.INVALID_TRANSITION,
      `only pending tasks can be deleted; ${notPending.map((t) => `"${t.name}" is ${t.status}`).join(", ")}. Cancel the tree first, or copy it`,
      { tasks: notPending.map((t) => t.id) },
    );
  }
  const outside = index.tasks.filter((t) => !ids.has(t.id) && t.dependencies.some((d) => ids.has(d.id)));
  if (outside.length > 0) {
    throw new ApflowError(
      ErrorCode.CONFLICT,
      `cannot delete: ${outside.map((t) => `"${t.name}"`).join(", ")} depend${outside.length === 1 ? "s" : ""} on tasks of this subtree`,
      { dependents: outside.map((t) => t.id) },
    );
  }
  return subtree;
}

/**
 * A copy of a task's subtree as a new independent tree: new ids, the copied task
 * becomes the root, statuses reset, dependencies remapped; dependencies on tasks
 * outside the subtree are dropped (the copy must stand alone).
 */
export function planCopy(index: TreeIndex, taskId: string, generateId: () => string): TreePlan {
  const subtree = index.subtree(taskId);
  const newIds = new Map(subtree.map((t) => [t.id, generateId()] as const));
  const rootId = newIds.get(taskId)!;
  const baseDepth = index.get(taskId).depth;
  const tasks: NewTask[] = subtree.map((task, position) => ({
    id: newIds.get(task.id)!,
    treeId: rootId,
    parentId: task.id === taskId || !task.parentId ? null : newIds.get(task.parentId)!,
    depth: task.depth - baseDepth,
    position,
    name: task.name,
    executor: task.executor,
    inputs: task.inputs,
    params: task.params,
    priority: task.priority,
    maxAttempts: task.maxAttempts,
    timeoutMs: task.timeoutMs,
    // A key names one execution; the copy is a new one.
    idempotencyKey: null,
    placement: task.placement,
    originType: "copy",
    originalTaskId: task.id,
    userId: task.userId,
    dependencies: task.dependencies.flatMap((d) => {
      const id = newIds.get(d.id);
      return id ? [{ id, required: d.required }] : [];
    }),
  }));
  return { rootId, tasks };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A running task's definition is fixed: its executor already has it. */
export function assertEditable(task: Task): void {
  if (task.status === "in_progress") {
    throw new ApflowError(
      ErrorCode.INVALID_TRANSITION,
      `task "${task.name}" is running and cannot be changed; cancel it first, or wait until it finishes`,
    );
  }
}

/**
 * Refuses (CONFLICT) while a task of the tree runs or waits to run: a scheduled run
 * must not reset a run still going (see RequeueOptions.idleOnly).
 */
export function assertTreeIdle(index: TreeIndex): void {
  const busy = index.tasks.filter((t) => t.status === "in_progress" || (t.status === "pending" && t.queued));
  if (busy.length === 0) return;
  const root = index.tasks.find((t) => t.parentId === null) ?? busy[0]!;
  throw new ApflowError(
    ErrorCode.CONFLICT,
    `the tree "${root.name}" is still running (${busy.length} task${busy.length === 1 ? "" : "s"} in progress or waiting to run); wait for it to finish, or cancel it first`,
    { running: busy.map((t) => t.id) },
  );
}
