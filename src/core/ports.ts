/**
 * The narrow ports the engine depends on. Storage implements TaskStore (memory,
 * PGlite and PostgreSQL share one contract test suite); the engine never sees SQL.
 */
import type { NodeCapabilities } from "./placement.js";
import type { TaskPatch } from "./tree-plan.js";
import type { JsonObject, JsonValue, Task, TaskEvent, TaskEventType, TaskSchedule, TaskStatus } from "./types.js";

/** A task ready to insert, produced by `planTree` (validated, ids resolved): the fields a creation sets. */
export type NewTask = Pick<
  Task,
  | "id"
  | "treeId"
  | "parentId"
  | "depth"
  | "position"
  | "name"
  | "executor"
  | "inputs"
  | "params"
  | "priority"
  | "maxAttempts"
  | "timeoutMs"
  | "idempotencyKey"
  | "placement"
  | "originType"
  | "originalTaskId"
  | "userId"
  | "dependencies"
>;

export interface TreePlan {
  rootId: string;
  /** Parents come before their children. */
  tasks: NewTask[];
}

/** A dependency of a claimed task, as its executor sees it. */
export interface DependencyResult {
  id: string;
  name: string;
  required: boolean;
  status: TaskStatus;
  result: JsonValue | null;
}

export interface ClaimedTask {
  task: Task;
  /** Fences every later write of this attempt: a write with a stale token changes nothing. */
  leaseToken: string;
  dependencies: DependencyResult[];
}

export type Outcome =
  | { kind: "completed"; taskId: string; leaseToken: string; result: JsonValue }
  | {
      kind: "failed";
      taskId: string;
      leaseToken: string;
      error: string;
      errorCode: string;
      /** Set when another attempt is due after this delay; otherwise the failure is final. */
      retryInMs?: number;
    };

export interface ProgressUpdate {
  taskId: string;
  leaseToken: string;
  progress: number;
  message: string | null;
}

export interface TaskQuery {
  status?: TaskStatus[];
  executor?: string;
  rootOnly?: boolean;
  parentId?: string;
  treeId?: string;
  name?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  limit?: number;
  offset?: number;
}

export interface RequeueOptions {
  /** Re-run completed tasks too (default: only what is not completed). */
  rerunAll: boolean;
  /**
   * Refuse with CONFLICT, changing nothing, while a task of the tree runs or waits to
   * run: checked under the tree's lock, so a scheduled run never overlaps the last one.
   */
  idleOnly?: boolean;
}

/** Where a page of scheduled tasks starts: after this (nextRunAt, id). */
export interface ScheduleCursor {
  nextRunAt: Date | null;
  id: string;
}

export interface ScheduleQuery {
  enabled?: boolean;
  after?: ScheduleCursor;
  limit: number;
}

/** The schedule events, recorded on the tree's root. */
export type ScheduleEventType = Extract<TaskEventType, "schedule_run" | "schedule_skipped" | "schedule_missed">;

/** What became of a due schedule (or a trigger); written with its event in one transaction. */
export interface ScheduleRecord {
  type: ScheduleEventType;
  /** Now. For a run, the new lastRunAt (and runCount goes up by one). */
  at: Date;
  /**
   * nextRunAt as read before deciding: `nextRunAt` replaces it only while it is
   * unchanged, so a schedule set, enabled or disabled meanwhile keeps its own.
   */
  expectedNextRunAt: Date | null;
  nextRunAt: Date | null;
  message: string;
  data: JsonObject;
}

export interface CancelResult {
  events: TaskEvent[];
  /** Tasks that were in progress: their executors must be aborted. */
  running: string[];
}

export interface ClaimResult {
  tasks: ClaimedTask[];
  events: TaskEvent[];
}

export interface FinishResult {
  events: TaskEvent[];
  /** Outcomes dropped because their lease was no longer held (fencing). */
  lost: string[];
}

export interface TaskStore {
  /** For each given id that exists, the id of its tree. */
  findTrees(ids: string[]): Promise<Map<string, string>>;
  /** Task ids among `keys` already used as idempotency keys. */
  findIdempotencyKeys(keys: string[]): Promise<Set<string>>;
  /** Inserts a whole tree atomically; with `queue` its tasks are asked to run. */
  createTree(plan: TreePlan, queue: boolean): Promise<TaskEvent[]>;
  getTask(id: string): Promise<Task | null>;
  /** Every task of a tree, parents before children, siblings by position. */
  getTree(treeId: string): Promise<Task[]>;
  listTasks(query: TaskQuery): Promise<Task[]>;
  countTasks(query: TaskQuery): Promise<number>;
  /** Stored events of a tree with seq > afterSeq, in seq order. */
  listEvents(treeId: string, afterSeq: number, limit: number): Promise<TaskEvent[]>;
  /** Tasks of the tree not yet terminal (0 when the tree is finished). */
  openTaskCount(treeId: string): Promise<number>;
  /**
   * Asks the subtree of `taskId` to run, with the dependencies it needs: resets what
   * is not completed (or everything with rerunAll) to pending. See `planRequeue`.
   */
  requeue(taskId: string, options: RequeueOptions): Promise<TaskEvent[]>;
  /** Changes editable fields of a task that is not running; records an "updated" event. */
  updateTask(taskId: string, patch: TaskPatch): Promise<TaskEvent[]>;
  /** Records an event that is not a status change (e.g. `hook_failed`) on a task. */
  addEvent(taskId: string, type: TaskEventType, message: string, data?: JsonObject | null): Promise<TaskEvent[]>;
  /**
   * Claims up to `limit` ready tasks in (priority, createdAt, id) order, with a lease,
   * among those `node` may run (its executors, the task's placement).
   */
  claim(node: NodeCapabilities, limit: number, leaseMs: number): Promise<ClaimResult>;
  /** Records outcomes (fenced by lease token) and their effects on dependents. */
  finish(outcomes: Outcome[]): Promise<FinishResult>;
  reportProgress(updates: ProgressUpdate[]): Promise<TaskEvent[]>;
  /** Extends the leases still held; returns the task ids whose lease was lost. */
  renewLeases(owner: string, leases: { taskId: string; leaseToken: string }[], leaseMs: number): Promise<string[]>;
  /** Cancels a task with its descendants and required dependents (see `planCancel`). */
  cancel(taskId: string, message: string): Promise<CancelResult>;
  /** Returns to the queue every task leased by `owner` (a restarted node's own leases). */
  releaseOwner(owner: string): Promise<TaskEvent[]>;
  /**
   * Returns to the queue tasks whose lease expired. With a fence, only while that
   * leader lease still holds (a deposed leader changes nothing).
   */
  reclaimExpired(limit: number, fence?: LeaderFence): Promise<TaskEvent[]>;
  /** Deletes a pending subtree (see `planDelete`). */
  deleteSubtree(taskId: string): Promise<void>;
  /**
   * Sets a root task's schedule with its bookkeeping as given, or clears it (null);
   * records an "updated" event. A task that is not a root is refused.
   */
  setSchedule(taskId: string, schedule: TaskSchedule | null): Promise<TaskEvent[]>;
  /** Enables or disables an existing schedule with its new next due time; records an "updated" event. */
  setScheduleEnabled(taskId: string, enabled: boolean, nextRunAt: Date | null): Promise<TaskEvent[]>;
  /** Scheduled tasks in (nextRunAt, id) order; those without a next run (disabled, finished) last. */
  listScheduled(query: ScheduleQuery): Promise<Task[]>;
  /**
   * Up to `limit` enabled schedules due at `now` (nextRunAt <= now), earliest first,
   * skipping rows another transaction holds. With a fence, none unless that leader
   * lease still holds.
   */
  claimDueSchedules(now: Date, limit: number, fence?: LeaderFence): Promise<Task[]>;
  /**
   * Records a run, skip or miss of a schedule: runCount, lastRunAt, nextRunAt and the
   * event, atomically. With a fence, nothing unless that leader lease still holds.
   */
  recordSchedule(taskId: string, record: ScheduleRecord, fence?: LeaderFence): Promise<TaskEvent[]>;
  close(): Promise<void>;
}

/** The cluster leader's identity for fenced housekeeping: (node, term). */
export interface LeaderFence {
  nodeId: string;
  term: number;
}

export interface Clock {
  now(): Date;
  /** Calls `fn` after `ms`; returns a function that cancels the timer. */
  setTimer(ms: number, fn: () => void): () => void;
}

export type EventListener = (event: TaskEvent) => void;

export interface EventBus {
  publish(events: readonly TaskEvent[]): void;
  /** Listens to one tree's events, or every event with "*". Returns unsubscribe. */
  subscribe(treeId: string, listener: EventListener): () => void;
}
