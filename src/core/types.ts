/** The task model of the behaviour contract (shared/docs/semantics.md). */
import type { Schedule } from "./schedule/index.js";

export const TASK_STATUSES = ["pending", "in_progress", "completed", "failed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export function isTerminal(status: TaskStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

/** The event that made its task terminal: its type is the terminal status it set. */
export function isFinalEvent(event: { type: TaskEventType }): boolean {
  return event.type === "completed" || event.type === "failed" || event.type === "cancelled";
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export type OriginType = "create" | "copy" | "link" | "archive";

export interface DependencyRef {
  id: string;
  required: boolean;
}

/** Which nodes may claim a task (cluster placement); empty means any node. */
export interface Placement {
  executors?: string[];
  tags?: string[];
  allowNodes?: string[];
  forbidNodes?: string[];
}

export interface Task {
  id: string;
  treeId: string;
  parentId: string | null;
  depth: number;
  /** Order among the tasks of its create request (siblings keep it). */
  position: number;
  name: string;
  executor: string;
  inputs: JsonObject;
  params: JsonObject;
  priority: number;
  status: TaskStatus;
  progress: number;
  result: JsonValue | null;
  error: string | null;
  errorCode: string | null;
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  idempotencyKey: string | null;
  dependencies: DependencyRef[];
  /** True once the task was asked to run and until it is terminal. */
  queued: boolean;
  notBefore: Date | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  placement: Placement | null;
  originType: OriginType;
  originalTaskId: string | null;
  userId: string | null;
  /** When and how often the tree runs by itself (root tasks only). */
  schedule: TaskSchedule | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  updatedAt: Date;
}

/** What to do with runs that fell due while no node was up (see Scheduler). */
export const MISSED_RUN_POLICIES = ["run_once", "skip"] as const;
export type MissedRunPolicy = (typeof MISSED_RUN_POLICIES)[number];

/** A root task's schedule with its run bookkeeping. */
export type TaskSchedule = Schedule & {
  /** The next due time; null while disabled, or once finished (maxRuns reached, endAt passed). */
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  /** Runs made since the schedule was set (scheduled and triggered ones). */
  runCount: number;
  /** null: the node's APFLOW_SCHEDULE_MISSED_RUNS. */
  missedRuns: MissedRunPolicy | null;
};

export const EVENT_TYPES = [
  "created",
  "queued",
  "started",
  "progress",
  "retrying",
  "completed",
  "failed",
  "cancelled",
  "lease_expired",
  "updated",
  "hook_failed",
  /** A schedule (or its trigger) ran the tree. */
  "schedule_run",
  /** A schedule fell due while the tree's previous run was still going. */
  "schedule_skipped",
  /** Runs fell due while no node was up, and the missed-run policy is `skip`. */
  "schedule_missed",
] as const;
export type TaskEventType = (typeof EVENT_TYPES)[number];

/**
 * A stored status change. `seq` is allocated per tree in commit order, so
 * (treeId, seq) is a gap-free resume cursor.
 */
export interface TaskEvent {
  treeId: string;
  seq: number;
  taskId: string;
  type: TaskEventType;
  status: TaskStatus;
  progress: number;
  attempt: number;
  message: string | null;
  data: JsonObject | null;
  at: Date;
  /**
   * Set on the last event of a transaction that left every task of the tree
   * terminal (live events only; not stored). Lets watchers stop without a query.
   */
  treeFinished?: boolean;
  /** Set on the `started` event of the first task claimed in a run of the tree (live only). */
  treeStarted?: boolean;
  /** Set when the event was committed by another node and relayed here (live only). */
  remote?: boolean;
}
