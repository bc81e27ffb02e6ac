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
  // With markStarted (claims), a tree's first claim of a run stamps started_at;
  // started_at = now() afterwards means it was this transaction.
  const updated = await tx.query<{
    id: string;
    event_seq: number | string;
    open_tasks: number;
    just_started: boolean;
    at: Date;
  }>(
    `UPDATE task_trees t SET event_seq = t.event_seq + v.n, open_tasks = t.open_tasks + v.d,
            started_at = CASE WHEN $4 THEN coalesce(t.started_at, now()) ELSE t.started_at END
       FROM unnest($1::text[], $2::int[], $3::int[]) AS v(id, n, d)
      WHERE t.id = v.id
      RETURNING t.id, t.event_seq, t.open_tasks, ($4 AND t.started_at = now()) AS just_started, now() AS at`,
    [
      treeIds,
      treeIds.map((id) => counts.get(id)!),
      treeIds.map((id) => openDelta.get(id) ?? 0),
      options.markStarted === true,
    ],
  );
  const next = new Map<string, number>();
  const finished = new Set<string>();
  const started = new Set<string>();
  let at = new Date();
  for (const row of updated) {
    if (Number(row.open_tasks) === 0) finished.add(row.id);
    if (row.just_started) started.add(row.id);
    next.set(row.id, Number(row.event_seq) - counts.get(row.id)! + 1);
    at = row.at instanceof Date ? row.at : new Date(row.at);
  }
  const stored: TaskEvent[] = [];
  for (const event of events) {
    const seq = next.get(event.treeId);
    if (seq === undefined) continue; // the tree was deleted meanwhile
    next.set(event.treeId, seq + 1);
    stored.push({ ...event, seq, at });
  }
  if (stored.length === 0) return stored;
  for (const treeId of finished) {
    const last = stored.findLast((e) => e.treeId === treeId);
    if (last) last.treeFinished = true;
  }
  for (const treeId of started) {
    const first = stored.find((e) => e.treeId === treeId);
    if (first) first.treeStarted = true;
  }
  // One NOTIFY per transaction (sent at commit) tells other nodes which trees have
  // new events: a hint only, they read the rows. Folded into the INSERT so it costs
  // no extra round trip.
  await tx.query(
    `WITH inserted AS (
       INSERT INTO task_events (tree_id, seq, task_id, type, status, progress, attempt, message, data, at)
       SELECT v.tree_id, v.seq, v.task_id, v.type, v.status, v.progress, v.attempt, v.message, v.data, now()
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::int[],
                     $8::text[], $9::jsonb[])
           AS v(tree_id, seq, task_id, type, status, progress, attempt, message, data)
       RETURNING 1)
     SELECT pg_notify('${EVENTS_CHANNEL}', $10) FROM (SELECT count(*) FROM inserted) AS done`,
    [
      stored.map((e) => e.treeId),
      stored.map((e) => e.seq),
      stored.map((e) => e.taskId),
      stored.map((e) => e.type),
      stored.map((e) => e.status),
      stored.map((e) => e.progress),
      stored.map((e) => e.attempt),
      stored.map((e) => e.message),
      stored.map((e) => (e.data === null ? null : JSON.stringify(e.data))),
      notification(stored),
    ],
  );
  return stored;
}

/** The channel on which every transaction that stored events says which trees it touched. */
export const EVENTS_CHANNEL = "apflow_events";

/**
 * The NOTIFY payload: JSON `[[treeId, firstSeq, lastSeq], ...]` (ids may contain any
 * character), or `"*"` ("many trees") when too long for NOTIFY's 8,000 bytes.
 */
function notification(events: readonly TaskEvent[]): string {
  const range = new Map<string, [number, number]>();
  for (const e of events) {
    const r = range.get(e.treeId);
    if (r) r[1] = e.seq;
    else range.set(e.treeId, [e.seq, e.seq]);
  }
  const payload = JSON.stringify([...range].map(([treeId, [first, last]]) => [treeId, first, last]));
  return payload.length < 7_900 ? payload : '"*"';
}

/** The events one transaction stored for one tree. */
export interface NotifiedRange {
  treeId: string;
  first: number;
  last: number;
}

/** Reads a payload written by `notification`: the trees touched, or "*" for "any". */
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
