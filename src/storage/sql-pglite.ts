/**
 * The Sql port on embedded PGlite. PGlite is a single in-process connection: its
 * own mutex queues every query behind a running transaction, and the very same
 * instance is handed to Prisma's adapter, so raw SQL and Prisma never see two
 * connections. Consequence for callers: inside `transaction(fn)` use only `tx`;
 * calling the outer `query` there waits for the transaction to end, which never
 * happens.
 */
import type { PGlite, Transaction } from "@electric-sql/pglite";
import { preparedStatements } from "./pglite-prepared.js";
import type { Sql } from "./sql.js";

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Wraps a PGlite instance. The Sql takes ownership: `close()` closes it (once). */
export function createPgliteSql(db: PGlite): Sql {
  const runPrepared = preparedStatements(db);

  /** One statement, on the database or in a transaction (`tx`). */
  async function run<Row>(
    target: PGlite | Transaction,
    text: string,
    params: readonly unknown[] | undefined,
  ): Promise<Row[]> {
    if (params && params.length > 0) return runPrepared<Row>(text, params, target !== db);
    // Like pg without parameters: the simple query protocol, several statements
    // allowed, the rows of the last one returned.
    const results = await target.exec(text);
    return (results[results.length - 1]?.rows ?? []) as Row[];
  }

  return {
    dialect: "pglite",
    // PGlite settles its promises without returning to the event loop: a chain of
    // statements or transactions (claim -> run -> claim...) would starve timers, I/O
    // and the engine's outcome flush. Yield once per statement or transaction.
    async query(text, params) {
      await yieldToEventLoop();
      return run(db, text, params);
    },
    async transaction(fn) {
      await yieldToEventLoop();
      return db.transaction((tx) =>
        fn({
          query: (text, params) => {
            // As PGlite's own tx.query: once the transaction ended, running on the
            // database without its lock could land in another caller's transaction.
            if (tx.closed) throw new Error("Transaction is closed");
            return run(tx, text, params);
          },
        }),
      );
    },
    async listen(channel, onMessage) {
      // One in-process connection: notifications never get lost, so no reconnects.
      const unlisten = await db.listen(channel, onMessage);
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}
