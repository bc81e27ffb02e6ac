/**
 * Records a batch of outcomes: completions, retries and final failures, their
 * effect on dependents, and their events.
 *
 * Why it is fenced: every UPDATE matches on (id, lease_token, status =
 * 'in_progress'). A node whose lease expired, or whose task was cancelled, no
 * longer matches, so its late result changes nothing and is reported as lost.
 *
 * Why the common batch is one statement: completions and retries, the release of
 * the completed tasks' dependents and the events are all written by one
 * autocommitted statement, so a batch costs one round trip. A final failure
 * first fails its required dependents, transitively (settleDependents, several
 * statements), so a batch holding one runs in a transaction: the failures first,
 * then the same statement, which stores their events with its own.
 */
import type { FinishResult, Outcome } from "../../core/ports.js";
import type { Sql, SqlQueryable } from "../sql.js";
import {
  addDelta,
  eventParams,
  eventsFromParams,
  eventsTail,
  type NewEvent,
  SEND_NOTIFY,
  STORED_COLUMNS,
  type StoredRow,
  storedEvent,
} from "./append-events.js";
import { settleDependents } from "./settle-dependents.js";

const CLEAR_LEASE = "lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()";

export async function finishOutcomes(sql: Sql, outcomes: readonly Outcome[]): Promise<FinishResult> {
  const isFinal = (o: Outcome) => o.kind === "failed" && o.retryInMs === undefined;
  if (!outcomes.some(isFinal)) return finishStatement(sql, outcomes, [], new Map());
  return sql.transaction(async (tx) => {
    const failed = await failFinals(tx, outcomes.filter(isFinal));
    const rest = await finishStatement(
      tx,
      outcomes.filter((o) => !isFinal(o)),
      failed.events,
      failed.delta,
    );
    return { events: rest.events, lost: rest.lost.filter((id) => !failed.done.has(id)) };
  });
}

/**
 * Completions and retries (outcomes without a final failure), plus the events and
 * open-task changes of failures already written in the same transaction.
 */
async function finishStatement(
  q: SqlQueryable,
  outcomes: readonly Outcome[],
  extraEvents: readonly NewEvent[],
  extraDelta: ReadonlyMap<string, number>,
): Promise<FinishResult> {
  if (outcomes.length === 0 && extraEvents.length === 0 && extraDelta.size === 0) return { events: [], lost: [] };
  // What each outcome's event says is decided here, once: the statement stores it
  // (and takes the new status from it), and the same object is returned.
  const said = outcomes.map(outcomeEvent);
  // A null delay marks a completion. The completions also release their pending
  // dependents (open_deps); only rows the fence let through (`done`) count, and the
  // dependents are pending, so no row is updated twice.
  const rows = await q.query<StoredRow & { ord: number | string; tree_id: string; progress: number; attempt: number }>(
    `WITH v AS (
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::jsonb[], $4::text[], $5::text[], $6::int[], $7::text[],
                            $8::text[], $9::text[], $10::jsonb[])
         WITH ORDINALITY AS v(id, token, result, error, code, delay, status, type, message, data, ord)),
     done AS (
       UPDATE tasks t
          SET status = v.status,
              result = CASE WHEN v.delay IS NULL THEN v.result ELSE t.result END,
              progress = CASE WHEN v.delay IS NULL THEN 1 ELSE t.progress END,
              completed_at = CASE WHEN v.delay IS NULL THEN now() ELSE t.completed_at END,
              queued = v.delay IS NOT NULL AND t.queued,
              not_before = CASE WHEN v.delay IS NULL THEN t.not_before
                                ELSE now() + v.delay * interval '1 millisecond' END,
              error = v.error, error_code = v.code, ${CLEAR_LEASE}
         FROM v
        WHERE t.id = v.id AND t.lease_token = v.token AND t.status = 'in_progress'
        RETURNING t.id, t.tree_id, t.status, t.progress, t.attempt, v.delay, v.type, v.message, v.data, v.ord),
     released AS (
       UPDATE tasks t SET open_deps = t.open_deps - c.n
         FROM (SELECT task_id, count(*)::int AS n FROM task_dependencies
                WHERE depends_on_id IN (SELECT id FROM done WHERE delay IS NULL) GROUP BY task_id) c
        WHERE t.id = c.task_id AND t.status = 'pending'),
     ev AS (
       SELECT tree_id, id AS task_id, type, status, progress, attempt, message, data, ord FROM done
       UNION ALL
       SELECT tree_id, task_id, type, status, progress, attempt, message, data, $11::int8 + ord
         FROM (${eventsFromParams(12)}) extra),
     delta AS (
       SELECT tree_id, -1 AS d FROM done WHERE delay IS NULL
       UNION ALL
       SELECT * FROM unnest($20::text[], $21::int[])),
     ${eventsTail({ markStarted: false })}
     SELECT s.tree_id, s.progress, s.attempt, ${STORED_COLUMNS}
       FROM stored s
      WHERE ${SEND_NOTIFY}
      ORDER BY s.ord`,
    [
      outcomes.map((o) => o.taskId),
      outcomes.map((o) => o.leaseToken),
      outcomes.map((o) => (o.kind === "completed" ? JSON.stringify(o.result) : null)),
      outcomes.map((o) => (o.kind === "failed" ? o.error : null)),
      outcomes.map((o) => (o.kind === "failed" ? o.errorCode : null)),
      outcomes.map(retryMs),
      said.map((e) => e.status),
      said.map((e) => e.type),
      said.map((e) => e.message),
      said.map((e) => (e.data === null ? null : JSON.stringify(e.data))),
      outcomes.length,
      ...eventParams(extraEvents),
      [...extraDelta.keys()],
      [...extraDelta.values()],
    ],
  );
  // The rows say where each event landed: an outcome's (ord 1..n, the fence let it
  // through) or one passed in (ord > n).
  const done = new Set<string>();
  const events = rows.map((row) => {
    const ord = Number(row.ord);
    if (ord > outcomes.length) return storedEvent(extraEvents[ord - outcomes.length - 1]!, row);
    const outcome = outcomes[ord - 1]!;
    done.add(outcome.taskId);
    const event = {
      ...said[ord - 1]!,
      treeId: row.tree_id,
      taskId: outcome.taskId,
      progress: Number(row.progress),
      attempt: Number(row.attempt),
    };
    return storedEvent(event, row);
  });
  return { events, lost: outcomes.filter((o) => !done.has(o.taskId)).map((o) => o.taskId) };
}

/** A completion or retry: its delay in ms (null for a completion). */
function retryMs(o: Outcome): number | null {
  return o.kind === "failed" ? Math.round(o.retryInMs!) : null;
}

/** What the event of a completion or a retry says, and the task's status after it. */
function outcomeEvent(o: Outcome): Pick<NewEvent, "type" | "status" | "message" | "data"> {
  if (o.kind === "completed") return { type: "completed", status: "completed", message: null, data: null };
  return {
    type: "retrying",
    status: "pending",
    message: o.error,
    data: { errorCode: o.errorCode, retryInMs: retryMs(o) },
  };
}

/**
 * Final failures and the dependents they fail, in the caller's transaction. The
 * events are returned for the caller to store, not stored here.
 */
async function failFinals(
  tx: SqlQueryable,
  finals: readonly Outcome[],
): Promise<{ events: NewEvent[]; delta: Map<string, number>; done: Set<string> }> {
  const rows = await tx.query<{
    id: string;
    tree_id: string;
    attempt: number;
    progress: number;
    error: string;
    error_code: string;
  }>(
    `UPDATE tasks t SET status = 'failed', error = v.error, error_code = v.code, completed_at = now(),
            queued = false, ${CLEAR_LEASE}
       FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[]) AS v(id, token, error, code)
      WHERE t.id = v.id AND t.lease_token = v.token AND t.status = 'in_progress'
      RETURNING t.id, t.tree_id, t.attempt, t.progress, t.error, t.error_code`,
    [
      finals.map((o) => o.taskId),
      finals.map((o) => o.leaseToken),
      finals.map((o) => (o.kind === "failed" ? o.error : null)),
      finals.map((o) => (o.kind === "failed" ? o.errorCode : null)),
    ],
  );
  const delta = new Map<string, number>();
  const events: NewEvent[] = rows.map((row) => {
    addDelta(delta, row.tree_id, -1);
    return {
      treeId: row.tree_id,
      taskId: row.id,
      type: "failed",
      status: "failed",
      progress: Number(row.progress),
      attempt: Number(row.attempt),
      message: row.error,
      data: { errorCode: row.error_code },
    };
  });
  const failedIds = rows.map((r) => r.id);
  const settled = await settleDependents(tx, failedIds, failedIds);
  events.push(...settled.events);
  for (const [treeId, n] of settled.failedPerTree) addDelta(delta, treeId, -n);
  return { events, delta, done: new Set(failedIds) };
}
