/**
 * Writes executors' progress reports (already throttled by the engine) in one
 * statement, fenced by lease token like every write of a running attempt.
 */
import type { ProgressUpdate } from "../../core/ports.js";
import type { TaskEvent } from "../../core/types.js";
import type { SqlQueryable } from "../sql.js";
import { appendEvents } from "./append-events.js";

export async function writeProgress(tx: SqlQueryable, updates: readonly ProgressUpdate[]): Promise<TaskEvent[]> {
  if (updates.length === 0) return [];
  const rows = await tx.query<{
    id: string;
    tree_id: string;
    attempt: number;
    progress: number;
    message: string | null;
  }>(
    `UPDATE tasks t SET progress = v.progress, updated_at = now()
       FROM unnest($1::text[], $2::uuid[], $3::float8[], $4::text[]) AS v(id, token, progress, message)
      WHERE t.id = v.id AND t.lease_token = v.token AND t.status = 'in_progress'
      RETURNING t.id, t.tree_id, t.attempt, t.progress, v.message`,
    [
      updates.map((u) => u.taskId),
      updates.map((u) => u.leaseToken),
      updates.map((u) => u.progress),
      updates.map((u) => u.message),
    ],
  );
  return appendEvents(
    tx,
    rows.map((r) => ({
      treeId: r.tree_id,
      taskId: r.id,
      type: "progress" as const,
      status: "in_progress" as const,
      progress: Number(r.progress),
      attempt: Number(r.attempt),
      message: r.message,
      data: null,
    })),
  );
}
