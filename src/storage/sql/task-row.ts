/**
 * Reading tasks with raw SQL: the column list, the row-to-Task mapping and the
 * dependency look-up every store query shares.
 */
import type { ScheduleType } from "../../core/schedule/index.js";
import type { MissedRunPolicy, Task, TaskSchedule, TaskStatus } from "../../core/types.js";
import type { SqlQueryable } from "../sql.js";

/** Columns of `tasks` a Task is built from (prefix with an alias where joined). */
export const TASK_COLUMNS = `id, tree_id, parent_id, depth, position, name, executor, inputs, params, priority,
  status, progress, result, error, error_code, attempt, max_attempts, timeout_ms, idempotency_key, queued,
  not_before, lease_owner, lease_expires_at, placement, origin_type, original_task_id, user_id, created_at,
  started_at, completed_at, updated_at, schedule_type, schedule_expr, schedule_tz, schedule_enabled,
  schedule_start_at, schedule_end_at, next_run_at, last_run_at, max_runs, run_count, schedule_missed_runs`;

export function prefixed(alias: string): string {
  return TASK_COLUMNS.split(",")
    .map((c) => `${alias}.${c.trim()}`)
    .join(", ");
}

export type TaskRow = Record<string, unknown>;

export function toTask(row: TaskRow, dependencies: Task["dependencies"] = []): Task {
  return {
    id: row.id as string,
    treeId: row.tree_id as string,
    parentId: (row.parent_id as string | null) ?? null,
    depth: Number(row.depth),
    position: Number(row.position),
    name: row.name as string,
    executor: row.executor as string,
    inputs: (row.inputs as Task["inputs"]) ?? {},
    params: (row.params as Task["params"]) ?? {},
    priority: Number(row.priority),
    status: row.status as TaskStatus,
    progress: Number(row.progress),
    result: (row.result as Task["result"]) ?? null,
    error: (row.error as string | null) ?? null,
    errorCode: (row.error_code as string | null) ?? null,
    attempt: Number(row.attempt),
    maxAttempts: Number(row.max_attempts),
    timeoutMs: row.timeout_ms === null || row.timeout_ms === undefined ? null : Number(row.timeout_ms),
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    dependencies,
    queued: Boolean(row.queued),
    notBefore: date(row.not_before),
    leaseOwner: (row.lease_owner as string | null) ?? null,
    leaseExpiresAt: date(row.lease_expires_at),
    placement: (row.placement as Task["placement"]) ?? null,
    originType: row.origin_type as Task["originType"],
    originalTaskId: (row.original_task_id as string | null) ?? null,
    userId: (row.user_id as string | null) ?? null,
    schedule: toSchedule(row),
    createdAt: date(row.created_at)!,
    startedAt: date(row.started_at),
    completedAt: date(row.completed_at),
    updatedAt: date(row.updated_at)!,
  };
}

/** The schedule columns of a row (null when the task has no schedule). */
function toSchedule(row: TaskRow): TaskSchedule | null {
  if (row.schedule_type === null || row.schedule_type === undefined) return null;
  return {
    type: row.schedule_type as ScheduleType,
    expression: row.schedule_expr as string,
    timezone: (row.schedule_tz as string | null) ?? "UTC",
    enabled: Boolean(row.schedule_enabled),
    startAt: date(row.schedule_start_at),
    endAt: date(row.schedule_end_at),
    maxRuns: row.max_runs === null || row.max_runs === undefined ? null : Number(row.max_runs),
    nextRunAt: date(row.next_run_at),
    lastRunAt: date(row.last_run_at),
    runCount: Number(row.run_count ?? 0),
    missedRuns: (row.schedule_missed_runs as MissedRunPolicy | null) ?? null,
  };
}

/** The dependencies of each given task, in declaration order. */
export async function dependenciesOf(
  tx: SqlQueryable,
  taskIds: readonly string[],
): Promise<Map<string, Task["dependencies"]>> {
  const byTask = new Map<string, Task["dependencies"]>();
  if (taskIds.length === 0) return byTask;
  const rows = await tx.query<{ task_id: string; depends_on_id: string; required: boolean }>(
    `SELECT task_id, depends_on_id, required FROM task_dependencies
      WHERE task_id = ANY($1::text[]) ORDER BY task_id, position`,
    [taskIds],
  );
  for (const row of rows) {
    const list = byTask.get(row.task_id) ?? [];
    list.push({ id: row.depends_on_id, required: row.required });
    byTask.set(row.task_id, list);
  }
  return byTask;
}

/** Runs a SELECT of task rows and attaches their dependencies. */
export async function loadTasks(tx: SqlQueryable, text: string, params: readonly unknown[]): Promise<Task[]> {
  const rows = await tx.query<TaskRow>(text, params);
  const deps = await dependenciesOf(
    tx,
    rows.map((r) => r.id as string),
  );
  return rows.map((row) => toTask(row, deps.get(row.id as string) ?? []));
}

function date(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as string);
}
