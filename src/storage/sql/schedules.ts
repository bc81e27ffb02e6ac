/**
 * Schedules, stored on their root task's row: setting them, the leader's claim of
 * due schedules, listing, and the record of each run, skip or miss.
 *
 * Why a due schedule is handled once: only the leader claims, inside a transaction
 * fenced by its term (`leaderFence` holds the lease row FOR SHARE until commit, so no
 * other node can become leader meanwhile), and FOR UPDATE SKIP LOCKED passes over a
 * row some other transaction is writing instead of waiting for it. A record then
 * moves next_run_at on only while it still holds the due time the scheduler read,
 * so a schedule set, enabled or disabled in between keeps its own next time.
 */
import { ApflowError, ErrorCode } from "../../core/errors.js";
import type { ScheduleQuery, ScheduleRecord } from "../../core/ports.js";
import type { Task, TaskEvent, TaskSchedule, TaskStatus } from "../../core/types.js";
import type { SqlQueryable } from "../sql.js";
import { appendEvents } from "./append-events.js";
import { loadTasks, TASK_COLUMNS } from "./task-row.js";

interface EventSource {
  tree_id: string;
  parent_id: string | null;
  status: TaskStatus;
  progress: number;
  attempt: number;
}

/** Locks the task's row, reading what its events carry. */
async function lockTask(tx: SqlQueryable, taskId: string): Promise<EventSource | null> {
  const [row] = await tx.query<EventSource>(
    "SELECT tree_id, parent_id, status, progress, attempt FROM tasks WHERE id = $1 FOR UPDATE",
    [taskId],
  );
  return row ?? null;
}

async function lockExisting(tx: SqlQueryable, taskId: string): Promise<EventSource> {
  const row = await lockTask(tx, taskId);
  if (!row) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${taskId}" not found`);
  return row;
}

function updatedEvent(taskId: string, row: EventSource) {
  return {
    treeId: row.tree_id,
    taskId,
    type: "updated" as const,
    status: row.status,
    progress: Number(row.progress),
    attempt: Number(row.attempt),
    message: null,
    data: { fields: ["schedule"] },
  };
}

export async function writeSchedule(
  tx: SqlQueryable,
  taskId: string,
  schedule: TaskSchedule | null,
): Promise<TaskEvent[]> {
  const row = await lockExisting(tx, taskId);
  if (schedule && row.parent_id !== null) {
    throw new ApflowError(ErrorCode.VALIDATION_ERROR, `task "${taskId}" is not a root: only a root carries a schedule`);
  }
  await tx.query(
    `UPDATE tasks SET schedule_type = $2, schedule_expr = $3, schedule_tz = $4, schedule_enabled = $5,
            schedule_start_at = $6::timestamptz, schedule_end_at = $7::timestamptz, max_runs = $8,
            next_run_at = $9::timestamptz, last_run_at = $10::timestamptz, run_count = $11,
            schedule_missed_runs = $12, updated_at = now()
      WHERE id = $1`,
    [
      taskId,
      schedule?.type ?? null,
      schedule?.expression ?? null,
      schedule?.timezone ?? null,
      schedule?.enabled ?? false,
      schedule?.startAt ?? null,
      schedule?.endAt ?? null,
      schedule?.maxRuns ?? null,
      schedule?.nextRunAt ?? null,
      schedule?.lastRunAt ?? null,
      schedule?.runCount ?? 0,
      schedule?.missedRuns ?? null,
    ],
  );
  return appendEvents(tx, [updatedEvent(taskId, row)]);
}

export async function writeScheduleEnabled(
  tx: SqlQueryable,
  taskId: string,
  enabled: boolean,
  nextRunAt: Date | null,
): Promise<TaskEvent[]> {
  const row = await lockExisting(tx, taskId);
  const updated = await tx.query(
    `UPDATE tasks SET schedule_enabled = $2, next_run_at = $3::timestamptz, updated_at = now()
      WHERE id = $1 AND schedule_type IS NOT NULL RETURNING id`,
    [taskId, enabled, nextRunAt],
  );
  if (updated.length === 0) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${taskId}" has no schedule`);
  return appendEvents(tx, [updatedEvent(taskId, row)]);
}

/** Keyset paging in (next_run_at NULLS LAST, id) order: a page starts after the cursor's row. */
export function selectScheduled(tx: SqlQueryable, query: ScheduleQuery): Promise<Task[]> {
  return loadTasks(
    tx,
    `SELECT ${TASK_COLUMNS} FROM tasks
      WHERE schedule_type IS NOT NULL
        AND ($1::boolean IS NULL OR schedule_enabled = $1)
        AND ($2::text IS NULL OR CASE WHEN $3::timestamptz IS NULL THEN next_run_at IS NULL AND id > $2
                                      ELSE next_run_at > $3 OR (next_run_at = $3 AND id > $2) OR next_run_at IS NULL END)
      ORDER BY next_run_at ASC NULLS LAST, id
      LIMIT $4`,
    [query.enabled ?? null, query.after?.id ?? null, query.after?.nextRunAt ?? null, query.limit],
  );
}

export function claimDue(tx: SqlQueryable, now: Date, limit: number): Promise<Task[]> {
  return loadTasks(
    tx,
    `SELECT ${TASK_COLUMNS} FROM tasks
      WHERE schedule_enabled AND next_run_at <= $1::timestamptz
      ORDER BY next_run_at, id
      LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
}

export async function writeScheduleRecord(
  tx: SqlQueryable,
  taskId: string,
  record: ScheduleRecord,
): Promise<TaskEvent[]> {
  const row = await lockTask(tx, taskId);
  if (!row) return []; // the tree was deleted meanwhile
  const ran = record.type === "schedule_run";
  await tx.query(
    `UPDATE tasks SET run_count = run_count + CASE WHEN $2 THEN 1 ELSE 0 END,
            last_run_at = CASE WHEN $2 THEN $3::timestamptz ELSE last_run_at END,
            next_run_at = CASE WHEN next_run_at IS NOT DISTINCT FROM $4::timestamptz THEN $5::timestamptz
                               ELSE next_run_at END,
            updated_at = now()
      WHERE id = $1 AND schedule_type IS NOT NULL`,
    [taskId, ran, record.at, record.expectedNextRunAt, record.nextRunAt],
  );
  return appendEvents(tx, [
    {
      treeId: row.tree_id,
      taskId,
      type: record.type,
      status: row.status,
      progress: Number(row.progress),
      attempt: Number(row.attempt),
      message: record.message,
      data: record.data,
    },
  ]);
}
