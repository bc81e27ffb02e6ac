/**
 * Appends events in the transaction that made the status changes they describe.
 *
 * Why it is gap-free: each tree's sequence lives on its task_trees row and is
 * advanced with an UPDATE, which holds that row's lock until commit. Two
 * transactions writing events of one tree therefore commit in seq order, so a
 * reader that has seen seq N can never later find a committed N-1.
 *
 * Why it cannot deadlock: callers make this the last statement group of their
 * transaction, and the tree rows are locked in id order, so a transaction holding
 * a tree lock waits only for tree locks of higher id.
 */
import type { JsonObject, TaskEvent, TaskEventType, TaskStatus } from "../../core/types.js";
import type { SqlQueryable } from "../sql.js";

export interface NewEvent {
  treeId: string;
  taskId: string;
  type: TaskEventType;
  status: TaskStatus;
  progress: number;
  attempt: number;
  message: string | null;
  data: JsonObject | null;
}

/**
 * @param openDelta change of each tree's count of non-terminal tasks caused by the
 *   same transaction (negative when tasks finished).
 */
export async function appendEvents(
  tx: SqlQueryable,
  events: readonly NewEvent[],
  openDelta: ReadonlyMap<string, number> = new Map(),
  options: { markStarted?: boolean } = {},
): Promise<TaskEvent[]> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.treeId, (counts.get(event.treeId) ?? 0) + 1);
  for (const treeId of openDelta.keys()) if (!counts.has(treeId)) counts.set(treeId, 0);
  if (counts.size === 0) return [];
  const treeIds = [...counts.keys()].sort();
  if (treeIds.length > 1) {
    await tx.query("SELECT id FROM task_trees WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE", [treeIds]);
  }
  // Each event's seq is its tree's previous event_seq plus its rank among this
  // call's events of that tree, so the sequence advance, the INSERT and the NOTIFY
  // are one statement (one round trip). Events of a tree deleted meanwhile find no
  // task_trees row and are dropped by the join.
  const rank = new Map<string, number>();
  const ranks = events.map((e) => {
    const r = (rank.get(e.treeId) ?? 0) + 1;
    rank.set(e.treeId, r);
    return r;
  });
  // With markStarted (claims), a tree's first claim of a run stamps started_at;
  // started_at = now() afterwards means it was this transaction. One NOTIFY per
  // transaction (sent at commit) tells other nodes which trees have new events
  // (payload: see NOTIFY_LIMIT below): a hint only, they read the rows.
  // The NOTIFY CTE is referenced by the final SELECT, so it runs exactly when a row
  // was bumped, and then once.
  const updated = await tx.query<{
    id: string;
    base: number | string;
    open_tasks: number;
    just_started: boolean;
    at: Date;
  }>(
    `WITH bumped AS (
       UPDATE task_trees t SET event_seq = t.event_seq + v.n, open_tasks = t.open_tasks + v.d,
              started_at = CASE WHEN $4 THEN coalesce(t.started_at, now()) ELSE t.started_at END
         FROM unnest($1::text[], $2::int[], $3::int[]) AS v(id, n, d)
        WHERE t.id = v.id
        RETURNING t.id, t.event_seq - v.n AS base, v.n, t.open_tasks, ($4 AND t.started_at = now()) AS just_started),
     inserted AS (
       INSERT INTO task_events (tree_id, seq, task_id, type, status, progress, attempt, message, data, at)
       SELECT e.tree_id, b.base + e.rank, e.task_id, e.type, e.status, e.progress, e.attempt, e.message, e.data, now()
         FROM unnest($5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::float8[], $11::int[],
                     $12::text[], $13::jsonb[])
           AS e(tree_id, rank, task_id, type, status, progress, attempt, message, data)
         JOIN bumped b ON b.id = e.tree_id
       RETURNING 1),
     notified AS (
       SELECT pg_notify('${EVENTS_CHANNEL}', CASE WHEN octet_length(p) < ${NOTIFY_LIMIT} THEN p ELSE '"*"' END)
         FROM (SELECT json_agg(json_build_array(id, base + 1, base + n) ORDER BY id)::text AS p
                 FROM bumped WHERE n > 0) ranges
        WHERE EXISTS (SELECT 1 FROM inserted))
     SELECT b.id, b.base, b.open_tasks, b.just_started, now() AS at, (SELECT count(*) FROM notified) AS notified
       FROM bumped b`,
    [
      treeIds,
      treeIds.map((id) => counts.get(id)!),
      treeIds.map((id) => openDelta.get(id) ?? 0),
      options.markStarted === true,
      events.map((e) => e.treeId),
      ranks,
      events.map((e) => e.taskId),
      events.map((e) => e.type),
      events.map((e) => e.status),
      events.map((e) => e.progress),
      events.map((e) => e.attempt),
      events.map((e) => e.message),
      events.map((e) => (e.data === null ? null : JSON.stringify(e.data))),
    ],
  );
  const base = new Map<string, number>();
  const finished = new Set<string>();
  const started = new Set<string>();
  let at = new Date();
  for (const row of updated) {
    if (Number(row.open_tasks) === 0) finished.add(row.id);
    if (row.just_started) started.add(row.id);
    base.set(row.id, Number(row.base));
    at = row.at instanceof Date ? row.at : new Date(row.at);
  }
  const stored: TaskEvent[] = [];
  events.forEach((event, i) => {
    const b = base.get(event.treeId);
    if (b !== undefined) stored.push({ ...event, seq: b + ranks[i]!, at });
  });
  for (const treeId of finished) {
    const last = stored.findLast((e) => e.treeId === treeId);
    if (last) last.treeFinished = true;
  }
  for (const treeId of started) {
    const first = stored.find((e) => e.treeId === treeId);
    if (first) first.treeStarted = true;
  }
  return stored;
}

/** The channel on which every transaction that stored events says which trees it touched. */
export const EVENTS_CHANNEL = "apflow_events";

/**
 * The NOTIFY payload, built in SQL by `appendEvents`: JSON `[[treeId, firstSeq,
 * lastSeq], ...]` (ids may contain any character), or `"*"` ("many trees") when too
 * long for NOTIFY's 8,000 bytes.
 */
const NOTIFY_LIMIT = 7_900;

/** The events one transaction stored for one tree. */
export interface NotifiedRange {
  treeId: string;
  first: number;
  last: number;
}

/** Reads a payload written by `appendEvents`: the trees touched, or "*" for "any". */
export function parseNotification(payload: string): NotifiedRange[] | "*" {
  try {
    const parsed = JSON.parse(payload) as unknown;
    if (Array.isArray(parsed)) {
      return (parsed as [string, number, number][]).map(([treeId, first, last]) => ({ treeId, first, last }));
    }
  } catch {
    // Not ours or truncated: treat as "anything may have changed".
  }
  return "*";
}

/** Adds `n` to a tree's entry in an open-task delta map. */
export function addDelta(delta: Map<string, number>, treeId: string, n: number): void {
  delta.set(treeId, (delta.get(treeId) ?? 0) + n);
}
