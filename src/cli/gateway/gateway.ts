/**
 * What the commands need from apflow, in one interface with two implementations:
 * ApiGateway (the GraphQL API of a running server) and LocalGateway (the database,
 * opened in this process). Both return the same plain views, so a command's output,
 * `--json` included, does not depend on the path it took.
 */
import type { ScheduleType } from "../../core/schedule/index.js";
import type { MissedRunPolicy, TaskEvent, TaskStatus } from "../../core/types.js";

/** A task as the CLI shows it: dates as ISO strings, statuses lower-case, secrets redacted. */
export interface TaskView {
  id: string;
  treeId: string;
  parentId: string | null;
  name: string;
  executor: string;
  status: TaskStatus;
  progress: number;
  priority: number;
  inputs: unknown;
  params: unknown;
  result: unknown;
  error: string | null;
  errorCode: string | null;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  dependencies: { id: string; required: boolean }[];
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
  /** Set on a root that runs by itself (`apflow schedule add`). */
  schedule: ScheduleView | null;
}

export interface ScheduleView {
  type: ScheduleType;
  expression: string;
  timezone: string;
  enabled: boolean;
  startAt: string | null;
  endAt: string | null;
  /** Null while disabled, or once finished. */
  nextRunAt: string | null;
  lastRunAt: string | null;
  maxRuns: number | null;
  runCount: number;
  /** Null: the node's APFLOW_SCHEDULE_MISSED_RUNS. */
  missedRuns: MissedRunPolicy | null;
  /** In words, e.g. "every day at 09:00 (Europe/Berlin)". */
  description: string;
}

/** A schedule to set; dates are ISO strings with an offset. */
export interface ScheduleSpec {
  type: ScheduleType;
  expression: string;
  timezone?: string;
  enabled?: boolean;
  startAt?: string;
  endAt?: string;
  maxRuns?: number;
  missedRuns?: MissedRunPolicy;
}

/**
 * One stored event of a tree as the CLI receives it from either gateway: the core
 * event's fields, with `id` the resume cursor (`<treeId>:<seq>`) and `at` as text.
 */
export type TreeEvent = Pick<TaskEvent, "seq" | "taskId" | "type" | "status" | "progress" | "attempt" | "message"> & {
  id: string;
  at: string;
};

export interface ExecutorView {
  id: string;
  description: string;
  available: boolean;
  unavailableReason: string | null;
}

export interface TaskListQuery {
  status?: TaskStatus[];
  executor?: string;
  rootOnly?: boolean;
  treeId?: string;
  limit: number;
  /** The `next` cursor of the previous page. */
  after?: string;
}

export interface TaskPage {
  tasks: TaskView[];
  /** Tasks matching the filter, over all pages. */
  total: number;
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

export interface SchedulePage {
  tasks: TaskView[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

export interface Gateway {
  /** Where the commands go, for messages ("the API at ...", "the embedded database in ..."). */
  readonly where: string;
  /**
   * "api": a server runs the trees and schedules. "embedded" or "postgres": the CLI
   * opened the database; on the embedded one nothing runs unless this process does.
   */
  readonly kind: "api" | "embedded" | "postgres";
  /** Creates a tree from a task array (apflow's camelCase format); returns its root. */
  createTree(tasks: Record<string, unknown>[], options: { execute: boolean }): Promise<TaskView>;
  /** Throws NOT_FOUND when there is no such task. */
  getTask(id: string): Promise<TaskView>;
  /** The task and all its descendants, parents before children. */
  getSubtree(id: string): Promise<TaskView[]>;
  listTasks(query: TaskListQuery): Promise<TaskPage>;
  cancelTask(id: string, reason: string): Promise<TaskView>;
  copyTask(id: string, options: { execute: boolean }): Promise<TaskView>;
  deleteTask(id: string): Promise<void>;
  listExecutors(): Promise<ExecutorView[]>;
  setSchedule(id: string, schedule: ScheduleSpec): Promise<TaskView>;
  enableSchedule(id: string): Promise<TaskView>;
  disableSchedule(id: string): Promise<TaskView>;
  clearSchedule(id: string): Promise<TaskView>;
  /** Runs the scheduled tree now (it counts as a run; the next due time stays). */
  triggerSchedule(id: string): Promise<TaskView>;
  /** Scheduled roots, soonest next run first; disabled and finished ones last. */
  listSchedules(query: { enabled?: boolean; limit: number; after?: string }): Promise<SchedulePage>;
  /** The schedules as an iCalendar document (only enabled ones unless `includeDisabled`). */
  exportICal(options: { includeDisabled: boolean }): Promise<string>;
  /**
   * Every event of the tree of `id` from the start, then live ones, in order; resolves
   * once every task of the tree is terminal, or when `signal` aborts.
   */
  followTree(id: string, onEvent: (event: TreeEvent) => void, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
