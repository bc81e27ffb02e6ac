/**
 * Where the database time goes: a timing proxy on the Sql port, installed by the
 * benchmark only. SqlTaskStore holds the very Sql object `createApflow` exposes as
 * `database.sql` and looks its methods up on every call, so replacing `query` and
 * `transaction` on that object sees every hot-path statement without touching src/.
 *
 * A transaction is named after its first statement (a create starts with INSERT
 * task_trees, a finish with failures with the failed UPDATE) and its wall time is
 * split into: waiting for the connection plus BEGIN (PGlite's mutex or the pg
 * pool), its statements, and COMMIT (the fsync, with synchronous_commit on). A
 * statement run on its own (the claim, the common finish) is a transaction of its
 * statement's kind, its commit inside its statement time.
 */
import { performance } from "node:perf_hooks";
import type { Sql, SqlQueryable } from "../src/storage/sql.js";

type Rows = readonly unknown[];

interface Rule {
  match: RegExp;
  label: string;
  /** The transaction kind this statement starts (only used when it is the first). */
  kind: string;
  /** How many tasks the statement moved: the batch size of its transaction. */
  tasks?: (rows: Rows, params: readonly unknown[]) => number;
}

const rowCount = (rows: Rows) => rows.length;
const firstArrayLength = (_: Rows, params: readonly unknown[]) => (params[0] as unknown[]).length;

/** The statements of src/storage/sql/*.ts and sql-task-store.ts, recognised by their text. */
const RULES: Rule[] = [
  // The claim and the common finish are single statements that also store their events.
  {
    match: /SET status = 'in_progress'/,
    label: "claim: UPDATE tasks ... SKIP LOCKED + events",
    kind: "claim",
    tasks: rowCount,
  },
  {
    match: /SET status = v\.status,/,
    label: "finish: UPDATE tasks -> completed/retry + events",
    kind: "finish",
    tasks: firstArrayLength,
  },
  { match: /SET status = 'failed', error = v\.error/, label: "finish: UPDATE tasks -> failed", kind: "finish" },
  { match: /WITH RECURSIVE doomed/, label: "finish: fail dependents (cascade)", kind: "finish" },
  { match: /SET open_deps = t\.open_deps - c\.n/, label: "finish: UPDATE dependents' open_deps", kind: "finish" },
  { match: /^\s*WITH ev AS/, label: "events: UPDATE task_trees, INSERT task_events", kind: "events" },
  { match: /INSERT INTO task_trees/, label: "create: INSERT task_trees", kind: "create" },
  { match: /INSERT INTO tasks/, label: "create: INSERT tasks", kind: "create", tasks: firstArrayLength },
  { match: /INSERT INTO task_dependencies/, label: "create: INSERT task_dependencies", kind: "create" },
  { match: /SELECT id, tree_id FROM tasks WHERE id = ANY/, label: "create: look up referenced ids", kind: "create" },
  { match: /idempotency_key = ANY/, label: "create: look up idempotency keys", kind: "create" },
  { match: /FROM tasks WHERE id = \$1/, label: "read: SELECT task by id", kind: "read" },
  { match: /FROM task_dependencies\s+WHERE task_id = ANY/, label: "read: SELECT dependencies", kind: "read" },
  { match: /SELECT open_tasks FROM task_trees/, label: "read: SELECT open_tasks", kind: "read" },
  { match: /lease_expires_at = now\(\) \+ \$4/, label: "lease: renew", kind: "lease" },
  // The cluster leader's housekeeping (src/cluster/): its transaction starts with the leader check.
  { match: /FROM cluster_leader/, label: "housekeeping: leader check", kind: "housekeeping" },
  { match: /INTO cluster_leader/, label: "housekeeping: leader election", kind: "housekeeping" },
  { match: /DELETE FROM cluster_nodes/, label: "housekeeping: forget dead nodes", kind: "housekeeping" },
  { match: /UPDATE cluster_nodes SET heartbeat/, label: "housekeeping: heartbeat", kind: "housekeeping" },
  { match: /SET status = 'pending', lease_owner = NULL/, label: "lease: release", kind: "lease" },
];

function classify(text: string): Rule {
  return (
    RULES.find((r) => r.match.test(text)) ?? {
      match: /$/,
      label: `other: ${text.replace(/\s+/g, " ").trim().slice(0, 40)}`,
      kind: "other",
    }
  );
}

export interface StatementStats {
  calls: number;
  ms: number;
  rows: number;
}

export interface TransactionStats {
  count: number;
  /** Transactions that moved no task (a claim that found nothing ready). */
  empty: number;
  /** Times the transaction function ran more than once (deadlock or serialization retries). */
  retries: number;
  statements: number;
  /** Tasks moved, summed (claimed, finished or inserted). */
  tasks: number;
  /** Wall time, and its parts. */
  ms: number;
  waitMs: number;
  statementMs: number;
  commitMs: number;
}

export interface Profile {
  /** Per transaction kind ("claim", "finish", "create", ...); a statement outside one counts as one. */
  transactions: Record<string, TransactionStats>;
  /** Per transaction kind, per statement. */
  statements: Record<string, Record<string, StatementStats>>;
}

export interface SqlProfiler {
  /** Forgets what was recorded (start-up statements are not the benchmark). */
  reset(): void;
  snapshot(): Profile;
  /** Puts the original methods back. */
  uninstall(): void;
}

export function installProfiler(sql: Sql): SqlProfiler {
  const originalQuery = sql.query;
  const originalTransaction = sql.transaction;
  const query = originalQuery.bind(sql);
  const transaction = originalTransaction.bind(sql);
  let profile: Profile = { transactions: {}, statements: {} };

  const record = (kind: string, label: string, ms: number, rows: number) => {
    profile.statements[kind] ??= {};
    const perKind = profile.statements[kind];
    perKind[label] ??= { calls: 0, ms: 0, rows: 0 };
    const s = perKind[label];
    s.calls++;
    s.ms += ms;
    s.rows += rows;
  };
  const transactionStats = (kind: string): TransactionStats => {
    profile.transactions[kind] ??= {
      count: 0,
      empty: 0,
      retries: 0,
      statements: 0,
      tasks: 0,
      ms: 0,
      waitMs: 0,
      statementMs: 0,
      commitMs: 0,
    };
    return profile.transactions[kind];
  };

  /** Times one statement; the first statement of a transaction names it. */
  const timed = async <Row>(
    run: () => Promise<Row[]>,
    text: string,
    params: readonly unknown[],
    tx: { kind: string | null; tasks: number; statements: number; ms: number } | null,
  ): Promise<Row[]> => {
    const rule = classify(text);
    const started = performance.now();
    const rows = await run();
    const ms = performance.now() - started;
    if (tx) {
      tx.kind ??= rule.kind;
      tx.statements++;
      tx.ms += ms;
      tx.tasks += rule.tasks?.(rows, params) ?? 0;
    }
    const kind = tx ? tx.kind! : rule.kind;
    record(kind, rule.label, ms, rows.length);
    if (!tx) {
      const t = transactionStats(kind);
      const tasks = rule.tasks?.(rows, params) ?? 0;
      t.count++;
      if (tasks === 0) t.empty++;
      t.statements++;
      t.tasks += tasks;
      t.ms += ms;
      t.statementMs += ms;
    }
    return rows;
  };

  sql.query = <Row>(text: string, params: readonly unknown[] = []) =>
    timed<Row>(() => query<Row>(text, params), text, params, null);

  sql.transaction = async <T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> => {
    const called = performance.now();
    let attempts = 0;
    let began = called;
    let ended = called;
    let state = { kind: null as string | null, tasks: 0, statements: 0, ms: 0 };
    const done = () => {
      const now = performance.now();
      const t = transactionStats(state.kind ?? "other");
      t.count++;
      if (state.tasks === 0) t.empty++;
      t.retries += Math.max(0, attempts - 1);
      t.statements += state.statements;
      t.tasks += state.tasks;
      t.ms += now - called;
      t.waitMs += began - called;
      t.statementMs += state.ms;
      t.commitMs += now - ended;
    };
    try {
      return await transaction(async (tx: SqlQueryable) => {
        attempts++;
        began = performance.now();
        // A retried attempt starts over; only the last one's statements describe the commit.
        state = { kind: null, tasks: 0, statements: 0, ms: 0 };
        const proxy: SqlQueryable = {
          query: <Row>(text: string, params: readonly unknown[] = []) =>
            timed<Row>(() => tx.query<Row>(text, params), text, params, state),
        };
        try {
          return await fn(proxy);
        } finally {
          ended = performance.now();
        }
      });
    } finally {
      done();
    }
  };

  return {
    reset() {
      profile = { transactions: {}, statements: {} };
    },
    snapshot: () => structuredClone(profile),
    uninstall() {
      sql.query = originalQuery;
      sql.transaction = originalTransaction;
    },
  };
}
