/**
 * Records a batch of outcomes in one transaction: completions, retries and final
 * failures, their effect on dependents, and their events.
 *
 * Why it is fenced: every UPDATE matches on (id, lease_token, status =
 * 'in_progress'). A node whose lease expired, or whose task was cancelled, no
 * longer matches, so its late result changes nothing and is reported as lost.
 */
import type { FinishResult, Outcome } from "../../core/ports.js";
import type { SqlQueryable } from "../sql.js";
import { addDelta, appendEvents, type NewEvent } from "./append-events.js";
import { settleDependents } from "./settle-dependents.js";

type Returned = { id: string; tree_id: string; attempt: number; progress: number };

const CLEAR_LEASE = "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()";

export async function finishOutcomes(tx: SqlQueryable, outcomes: readonly Outcome[]): Promise<FinishResult> {
  const completed = outcomes.filter((o) => o.kind === "completed");
  const failures = outcomes.filter((o) => o.kind === "failed");
  const retries = failures.filter((o) => o.retryInMs !== undefined);
  const finals = failures.filter((o) => o.retryInMs === undefined);
  const events: NewEvent[] = [];
  const delta = new Map<string, number>();
  const done = new Set<string>();

  // The completions also release their pending dependents (open_deps) in the same
  // statement, one round trip for the common batch. Only rows the fence let through
  // (`done`) count; the dependents are pending, so no row is updated twice.
  const completedRows = completed.length
    ? await tx.query<Returned>(
        `WITH done AS (
           UPDATE tasks t SET status = 'completed', result = v.result, progress = 1, completed_at = now(),
                  error = NULL, error_code = NULL, queued = false, ${CLEAR_LEASE}
             FROM unnest($1::text[], $2::uuid[], $3::jsonb[]) AS v(id, token, result)
            WHERE t.id = v.id AND t.lease_token = v.token AND t.status = 'in_progress'
            RETURNING t.id, t.tree_id, t.attempt, t.progress),
         released AS (
           UPDATE tasks t SET open_deps = t.open_deps - c.n
             FROM (SELECT task_id, count(*)::int AS n FROM task_dependencies
                    WHERE depends_on_id IN (SELECT id FROM done) GROUP BY task_id) c
            WHERE t.id = c.task_id AND t.status = 'pending')
         SELECT * FROM done`,
        [
          completed.map((o) => o.taskId),
          completed.map((o) => o.leaseToken),
          completed.map((o) => JSON.stringify(o.result)),
        ],
      )
    : [];
  for (const row of completedRows) {
    done.add(row.id);
    addDelta(delta, row.tree_id, -1);
    events.push(event(row, "completed", "completed", null, null));
  }

  const retryRows = retries.length
    ? await tx.query<Returned & { error: string; error_code: string; retry_ms: number }>(
        `UPDATE tasks t SET status = 'pending', error = v.error, error_code = v.code,
                not_before = now() + v.delay * interval '1 millisecond', ${CLEAR_LEASE}
           FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::int[]) AS v(id, token, error, code, delay)
          WHERE t.id = v.id AND t.lease_token = v.token AND t.status = 'in_progress'
          RETURNING t.id, t.tree_id, t.attempt, t.progress, t.error, t.error_code, v.delay AS retry_ms`,
        [
          retries.map((o) => o.taskId),
          retries.map((o) => o.leaseToken),
          retries.map((o) => o.error),
          retries.map((o) => o.errorCode),
          retries.map((o) => Math.round(o.retryInMs!)),
        ],
      )
    : [];
  for (const row of retryRows) {
    done.add(row.id);
    events.push(
      event(row, "retrying", "pending", row.error, { errorCode: row.error_code, retryInMs: Number(row.retry_ms) }),
    );
  }

  const failedRows = finals.length
    ? await tx.query<Returned & { error: string; error_code: string }>(
        `UPDATE tasks t SET status = 'failed', error = v.error, error_code = v.code, completed_at = now(),
                queued = false, ${CLEAR_LEASE}
           FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[]) AS v(id, token, error, code)
          WHERE t.id = v.id AND t.lease_token = v.token AND t.status = 'in_progress'
          RETURNING t.id, t.tree_id, t.attempt, t.progress, t.error, t.error_code`,
        [
          finals.map((o) => o.taskId),
          finals.map((o) => o.leaseToken),
          finals.map((o) => o.error),
          finals.map((o) => o.errorCode),
        ],
      )
    : [];
  for (const row of failedRows) {
    done.add(row.id);
    addDelta(delta, row.tree_id, -1);
    events.push(event(row, "failed", "failed", row.error, { errorCode: row.error_code }));
  }

  const failedIds = failedRows.map((r) => r.id);
  const settled = await settleDependents(tx, failedIds, failedIds);
  events.push(...settled.events);
  for (const [treeId, n] of settled.failedPerTree) addDelta(delta, treeId, -n);

  return {
    events: await appendEvents(tx, events, delta),
    lost: outcomes.filter((o) => !done.has(o.taskId)).map((o) => o.taskId),
  };
}

function event(
  row: Returned,
  type: NewEvent["type"],
  status: NewEvent["status"],
  message: string | null,
  data: NewEvent["data"],
): NewEvent {
  return {
    treeId: row.tree_id,
    taskId: row.id,
    type,
    status,
    progress: Number(row.progress),
    attempt: Number(row.attempt),
    message,
    data,
  };
}
