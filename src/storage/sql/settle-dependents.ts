/**
 * What a task reaching a terminal state does to the tasks that depend on it, in the
 * same transaction (so readiness is never stale):
 *  - a failed or cancelled task fails its pending required dependents with
 *    DEPENDENCY_FAILED, transitively (a recursive query, however deep the chain);
 *  - every other pending dependent stops waiting: its open_deps counter drops,
 *    and at 0 it is ready for the claim query.
 * Lock order between concurrent settlers is not fixed; PostgreSQL detects the rare
 * deadlock and the Sql port retries the transaction.
 */
import { ErrorCode } from "../../core/errors.js";
import type { SqlQueryable } from "../sql.js";
import type { NewEvent } from "./append-events.js";

export interface Settled {
  events: NewEvent[];
  /** Tasks failed by the cascade, per tree (they are no longer open). */
  failedPerTree: Map<string, number>;
}

/**
 * @param failedIds tasks that just became failed or cancelled
 * @param terminalIds every task that just became terminal (including failedIds)
 */
export async function settleDependents(
  tx: SqlQueryable,
  failedIds: readonly string[],
  terminalIds: readonly string[],
): Promise<Settled> {
  const events: NewEvent[] = [];
  const failedPerTree = new Map<string, number>();
  let doomedIds: string[] = [];
  if (failedIds.length > 0) {
    const doomed = await tx.query<{ id: string; tree_id: string; attempt: number; error: string; progress: number }>(
      `WITH RECURSIVE doomed(id, cause, cause_status) AS (
         SELECT d.task_id, s.name, s.status
           FROM task_dependencies d
           JOIN tasks s ON s.id = d.depends_on_id
           JOIN tasks t ON t.id = d.task_id
          WHERE d.depends_on_id = ANY($1::text[]) AND d.required AND t.status = 'pending'
         UNION
         SELECT d.task_id, s.name, 'failed'
           FROM doomed
           JOIN task_dependencies d ON d.depends_on_id = doomed.id
           JOIN tasks s ON s.id = doomed.id
           JOIN tasks t ON t.id = d.task_id
          WHERE d.required AND t.status = 'pending'
       )
       UPDATE tasks t
          SET status = 'failed', error_code = $2,
              error = 'required dependency "' || x.cause || '" ' || x.cause_status,
              completed_at = now(), updated_at = now(), queued = false, not_before = NULL
         FROM (SELECT DISTINCT ON (id) id, cause, cause_status FROM doomed ORDER BY id) x
        WHERE t.id = x.id AND t.status = 'pending'
        RETURNING t.id, t.tree_id, t.attempt, t.error, t.progress`,
      [failedIds, ErrorCode.DEPENDENCY_FAILED],
    );
    doomedIds = doomed.map((d) => d.id);
    for (const d of doomed) {
      failedPerTree.set(d.tree_id, (failedPerTree.get(d.tree_id) ?? 0) + 1);
      events.push({
        treeId: d.tree_id,
        taskId: d.id,
        type: "failed",
        status: "failed",
        progress: Number(d.progress),
        attempt: Number(d.attempt),
        message: d.error,
        data: { errorCode: ErrorCode.DEPENDENCY_FAILED },
      });
    }
  }
  const settled = doomedIds.length > 0 ? [...terminalIds, ...doomedIds] : terminalIds;
  if (settled.length > 0) {
    await tx.query(
      `UPDATE tasks t SET open_deps = t.open_deps - c.n
         FROM (SELECT task_id, count(*)::int AS n FROM task_dependencies
                WHERE depends_on_id = ANY($1::text[]) GROUP BY task_id) c
        WHERE t.id = c.task_id AND t.status = 'pending'`,
      [settled],
    );
  }
  return { events, failedPerTree };
}
