/**
 * The Sql port on a PostgreSQL server through a `pg` pool. Two things matter here:
 * int8 values are parsed to numbers exactly like PGlite does (so the SQL modules see
 * the same values on both databases), and a transaction (or a statement run on its
 * own) that loses a deadlock or a serialization check is retried as a whole,
 * because PostgreSQL asks the client to.
 */
import pg from "pg";
import type { Sql, SqlQueryable } from "./sql.js";
import { statementName } from "./statement-name.js";

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
/** SQLSTATEs after which PostgreSQL says "retry the transaction". */
const RETRYABLE_SQLSTATES = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 5;

/** int8 as PGlite returns it: a number when exact, a bigint beyond 2^53. */
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** int8[] text form (`{1,NULL,{2,3}}`) to nested arrays of parsed int8. */
function parseInt8Array(text: string): unknown {
  const json = text.replaceAll("{", "[").replaceAll("}", "]").replaceAll("NULL", "null").replace(/-?\d+/g, '"$&"');
  const walk = (v: unknown): unknown => (Array.isArray(v) ? v.map(walk) : v === null ? null : parseInt8(v as string));
  return walk(JSON.parse(json));
}

/**
 * Type parsers passed with every query, so the pool (which Prisma's adapter shares
 * and which sets its own parsers per query) and pg's global registry stay untouched.
 */
export const pgTypes: pg.CustomTypesConfig = {
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloaded getTypeParser signature cannot be implemented without it
  getTypeParser: ((oid: number, format?: string): any => {
    if (format !== "binary") {
      if (oid === INT8_OID) return parseInt8;
      if (oid === INT8_ARRAY_OID) return parseInt8Array;
    }
    return format === "binary" ? pg.types.getTypeParser(oid, "binary") : pg.types.getTypeParser(oid);
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** A SQLSTATE PostgreSQL wants the client to answer by retrying the transaction. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRYABLE_SQLSTATES.has(code);
}

async function run<Row>(
  target: pg.Pool | pg.PoolClient,
  text: string,
  params: readonly unknown[] | undefined,
): Promise<Row[]> {
  // No parameters: pg uses the simple query protocol, which accepts several
  // statements and then answers with one result per statement; return the last.
  const values = params && params.length > 0 ? [...params] : undefined;
  // Parameterized statements run as named prepared statements, so each connection
  // parses and plans a statement once instead of on every call: the claim, finish and
  // event statements are large, and planning them was a measurable share of each
  // batch. (A PgBouncer in transaction mode needs max_prepared_statements, 1.21+.)
  const name = values ? statementName(text) : undefined;
  const result = (await target.query({ name, text, values, types: pgTypes })) as pg.QueryResult | pg.QueryResult[];
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []) as Row[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a whole transaction again, with a growing random pause, when PostgreSQL asks for it. */
async function retrying<T>(transaction: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await transaction();
    } catch (error) {
      if (n >= MAX_ATTEMPTS || !isRetryableTransactionError(error)) throw error;
      await sleep(5 * n + Math.random() * 20 * n);
    }
  }
}

/**
 * Wraps a pool. The Sql takes ownership: `close()` ends the pool (once; later calls
 * do nothing).
 */
export function createPgSql(pool: pg.Pool): Sql {
  let closed = false;

  async function attempt<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        const value = await fn({ query: (text, params) => run(client, text, params) });
        await client.query("COMMIT");
        return value;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: Error) => {
          // The connection is unusable; drop it from the pool instead of reusing it.
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  return {
    dialect: "postgres",
    // A statement on its own is its own transaction: retried like one.
    query: (text, params) => retrying(() => run(pool, text, params)),
    transaction: (fn) => retrying(() => attempt(fn)),
    listen: (channel, onMessage, onReconnect) => listenOn(pool, channel, onMessage, onReconnect),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/**
 * LISTEN needs its own long-lived connection (a pooled one would be handed to
 * someone else). When it breaks, it is re-opened with backoff; notifications sent
 * meanwhile are lost, so `onReconnect` lets the caller catch up from the tables.
 */
async function listenOn(
  pool: pg.Pool,
  channel: string,
  onMessage: (payload: string) => void,
  onReconnect?: () => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client(pool.options);
    next.on("notification", (message) => {
      if (message.channel === channel) onMessage(message.payload ?? "");
    });
    next.on("error", () => reconnect(next));
    next.on("end", () => reconnect(next));
    await next.connect();
    await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    client = next;
  };
  const reconnect = (broken: pg.Client, delayMs = 500) => {
    if (stopped || client !== broken) return;
    client = null;
    broken.end().catch(() => undefined);
    retry = setTimeout(() => {
      connect().then(
        () => onReconnect?.(),
        () => {
          // Keep trying: the database may still be restarting.
          const dead = new pg.Client(pool.options);
          client = dead;
          reconnect(dead, Math.min(delayMs * 2, 10_000));
        },
      );
    }, delayMs);
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const current = client;
    client = null;
    await current?.end().catch(() => undefined);
  };
}
