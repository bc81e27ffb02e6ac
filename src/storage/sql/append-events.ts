/**
 * Stores events in the transaction (often the very statement) that made the status
 * changes they describe.
 *
 * Why it is gap-free: each tree's sequence lives on its task_trees row and is
 * advanced with an UPDATE, which holds that row's lock until commit. Two
 * transactions writing events of one tree therefore commit in seq order, so a
 * reader that has seen seq N can never later find a committed N-1.
 *
 * Why it cannot deadlock on trees: events are stored once per transaction, as
 * its last step, and the tree rows are locked in id order, so a transaction
 * holding a tree lock waits only for tree locks of higher id.
 */
import type { TaskEvent } from "../../core/types.js";
import type { SqlQueryable } from "../sql.js";

/** An event to store: what the caller knows before the statement gives it a seq and a time. */
export type NewEvent = Pick<
  TaskEvent,
  "treeId" | "taskId" | "type" | "status" | "progress" | "attempt" | "message" | "data"
>;

/**
 * The part of a statement that stores its events, as WITH items. The statement
 * defines two items before it:
 *   ev(tree_id, task_id, type, status, progress, attempt, message, data, ord):
 *     the events, `ord` unique within the statement and giving their order;
 *   delta(tree_id, d): how the statement changed each tree's count of open
 *     (non-terminal) tasks, negative when tasks finished; any number of rows per tree.
 * Its final SELECT reads `stored` (one row per stored event, with its seq) or
 * `bumped` (one row per tree), and must have SEND_NOTIFY in its WHERE.
 *
 * Each event's seq is its tree's previous event_seq plus its rank among the
 * statement's events of that tree, so advancing the sequence, the INSERT and the
 * NOTIFY need no round trip of their own: the claim and the common finish store
 * their events in the statement that changes the tasks. Events of a tree deleted
 * meanwhile find no task_trees row and are dropped by the join.
 *
 * With markStarted (claims), a tree's first claim of a run stamps started_at;
 * started_at = now() afterwards means it was this statement. One NOTIFY per
 * statement (sent at commit) tells other nodes which trees have new events
 * (payload: see NOTIFY_LIMIT below): a hint only, they read the rows.
 */
export function eventsTail(options: { markStarted: boolean }): string {
  const started = options.markStarted ? "coalesce(t.started_at, now())" : "t.started_at";
  const justStarted = options.markStarted ? "t.started_at = now()" : "false";
  return `ev_trees AS (
       SELECT tree_id AS id, sum(n)::int AS n, sum(d)::int AS d
         FROM (SELECT tree_id, 1 AS n, 0 AS d FROM ev UNION ALL SELECT tree_id, 0, d FROM delta) x
        GROUP BY tree_id),
     locked AS (
       SELECT t.id FROM task_trees t JOIN ev_trees c ON c.id = t.id ORDER BY t.id FOR NO KEY UPDATE OF t),
     bumped AS (
       UPDATE task_trees t SET event_seq = t.event_seq + c.n, open_tasks = t.open_tasks + c.d, started_at = ${started}
         FROM ev_trees c JOIN locked l ON l.id = c.id
        WHERE t.id = c.id
        RETURNING t.id, t.event_seq - c.n AS base, c.n, t.open_tasks, ${justStarted} AS just_started),
     ranked AS (
       SELECT e.*, row_number() OVER (PARTITION BY e.tree_id ORDER BY e.ord) AS rank FROM ev e),
     stored AS (
       SELECT r.ord, r.tree_id, r.task_id, r.type, r.status, r.progress, r.attempt, r.message, r.data,
              b.base + r.rank AS seq, r.rank, b.n, b.open_tasks, b.just_started
         FROM ranked r JOIN bumped b ON b.id = r.tree_id),
     inserted AS (
       INSERT INTO task_events (tree_id, seq, task_id, type, status, progress, attempt, message, data, at)
       SELECT tree_id, seq, task_id, type, status, progress, attempt, message, data, now() FROM stored
       RETURNING 1),
     notified AS (
       SELECT pg_notify('${EVENTS_CHANNEL}', CASE WHEN octet_length(p) < ${NOTIFY_LIMIT} THEN p ELSE '"*"' END)
         FROM (SELECT json_agg(json_build_array(id, base + 1, base + n) ORDER BY id)::text AS p
                 FROM bumped WHERE n > 0) ranges
        WHERE EXISTS (SELECT 1 FROM inserted))`;
}

/**
 * The condition that makes the NOTIFY happen, for the final SELECT's WHERE: it
 * reads `notified`, so the NOTIFY runs exactly when events were inserted, and then
 * once (an uncorrelated subquery is evaluated once per statement, before any row).
 */
export const SEND_NOTIFY = "(SELECT count(*) FROM notified) >= 0";

/** The columns of `stored` a statement returns for each event. */
export const STORED_COLUMNS = "s.ord, s.seq, s.rank, s.n, s.open_tasks, s.just_started, now() AS at";

/** Where an event landed: its seq, its rank among the statement's events of its tree, and that tree's row. */
export interface StoredRow {
  seq: number | string;
  rank: number | string;
  /** Events the statement stored for the tree. */
  n: number | string;
  /** The tree's open tasks after the statement. */
  open_tasks: number | string;
  /** The statement started the tree's run (its first claim). */
  just_started: boolean;
  at: Date | string;
}

/**
 * An event the statement stored, with its sequence number and the live-only
 * flags: treeStarted on the first event of a tree whose run this statement
 * started, treeFinished on the last event of a tree it left with no open task.
 */
export function storedEvent(event: NewEvent, row: StoredRow): TaskEvent {
  const rank = Number(row.rank);
  const stored: TaskEvent = {
    ...event,
    seq: Number(row.seq),
    at: row.at instanceof Date ? row.at : new Date(row.at),
  };
  if (row.just_started && rank === 1) stored.treeStarted = true;
  if (Number(row.open_tasks) === 0 && rank === Number(row.n)) stored.treeFinished = true;
  return stored;
}

/** An empty `delta` item, for statements that open or close no task. */
export const NO_DELTA = "delta AS (SELECT NULL::text AS tree_id, 0 AS d WHERE false)";

/**
 * Stores events given by the caller, as one statement.
 *
 * @param openDelta change of each tree's count of non-terminal tasks caused by the
 *   same transaction (negative when tasks finished).
 */
export async function appendEvents(
  tx: SqlQueryable,
  events: readonly NewEvent[],
  openDelta: ReadonlyMap<string, number> = new Map(),
): Promise<TaskEvent[]> {
  if (events.length === 0 && openDelta.size === 0) return [];
  // One row per tree, not per event: a tree's events take the seqs after its
  // `base` in the order given (the rank the statement numbered them by), so a
  // 10,000-task tree's creation does not send 10,000 rows back.
  const trees = await tx.query<{ id: string; base: number | string } & Omit<StoredRow, "seq" | "rank">>(
    `WITH ev AS (${eventsFromParams(1)}),
          delta AS (SELECT * FROM unnest($9::text[], $10::int[]) AS d(tree_id, d)),
          ${eventsTail({ markStarted: false })}
     SELECT b.id, b.base, b.n, b.open_tasks, b.just_started, now() AS at FROM bumped b WHERE ${SEND_NOTIFY}`,
    [...eventParams(events), [...openDelta.keys()], [...openDelta.values()]],
  );
  const byId = new Map(trees.map((tree) => [tree.id, tree]));
  const ranks = new Map<string, number>();
  const stored: TaskEvent[] = [];
  for (const event of events) {
    const tree = byId.get(event.treeId);
    if (!tree) continue; // deleted meanwhile
    const rank = (ranks.get(event.treeId) ?? 0) + 1;
    ranks.set(event.treeId, rank);
    stored.push(storedEvent(event, { ...tree, seq: Number(tree.base) + rank, rank }));
  }
  return stored;
}

/**
 * A SELECT of events passed as 8 array parameters from `$first` (see eventParams),
 * their `ord` numbered from 1 in the given order.
 */
export function eventsFromParams(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `SELECT * FROM unnest(${p(0)}::text[], ${p(1)}::text[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::float8[],
                                ${p(5)}::int[], ${p(6)}::text[], ${p(7)}::jsonb[])
            WITH ORDINALITY AS e(tree_id, task_id, type, status, progress, attempt, message, data, ord)`;
}

/** The 8 array parameters of eventsFromParams. */
export function eventParams(events: readonly NewEvent[]): unknown[][] {
  return [
    events.map((e) => e.treeId),
    events.map((e) => e.taskId),
    events.map((e) => e.type),
    events.map((e) => e.status),
    events.map((e) => e.progress),
    events.map((e) => e.attempt),
    events.map((e) => e.message),
    events.map((e) => (e.data === null ? null : JSON.stringify(e.data))),
  ];
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
