/**
 * The hot path's round trips: a claim, and a finish of completions and retries,
 * are each one statement run on its own (no BEGIN, no COMMIT), because every round
 * trip to PostgreSQL costs the node CPU and the batch latency. A batch holding a
 * final failure needs its transaction (the cascade to dependents is several
 * statements).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Sql } from "../../src/storage/sql.js";
import { SqlTaskStore } from "../../src/storage/sql-task-store.js";
import { type OpenedTestDatabase, openTestDatabase } from "../support/databases.js";
import { type Harness, startHarness } from "../support/harness.js";

/** The Sql with a log of what reaches it: "query" per statement on its own, "transaction" per transaction. */
function counting(sql: Sql): { sql: Sql; log: string[] } {
  const log: string[] = [];
  const wrapped: Sql = {
    dialect: sql.dialect,
    query(text, params) {
      log.push("query");
      return sql.query(text, params);
    },
    transaction(fn) {
      log.push("transaction");
      return sql.transaction(fn);
    },
    listen: (channel, onMessage, onReconnect) => sql.listen(channel, onMessage, onReconnect),
    close: () => sql.close(),
  };
  return { sql: wrapped, log };
}

describe.each(["pglite", "postgres"] as const)("hot-path round trips on %s", (kind) => {
  let opened: OpenedTestDatabase;
  let h: Harness;

  afterEach(async () => {
    await h.stop();
    await opened.cleanup();
  });

  it("claims in one statement and records completions and retries in another", async () => {
    opened = await openTestDatabase(kind);
    const { sql, log } = counting(opened.db.sql);
    h = await startHarness(new SqlTaskStore(sql));
    await h.engine.stop(0);
    await h.service.createTree(
      [
        { id: "a", name: "a", executor: "noop" },
        { id: "b", name: "b", executor: "noop", parentId: "a", maxAttempts: 2 },
        { id: "c", name: "c", executor: "noop", parentId: "a" },
      ],
      { execute: true },
    );
    const node = { ...h.engine.capabilities(), nodeId: "node-a" };

    log.length = 0;
    const claimed = await h.store.claim(node, 10, 30_000);
    expect(claimed.tasks).toHaveLength(3);
    expect(claimed.events).toHaveLength(3);
    expect(log).toEqual(["query"]);

    const token = new Map(claimed.tasks.map((t) => [t.task.id, t.leaseToken]));
    log.length = 0;
    const finished = await h.store.finish([
      { kind: "completed", taskId: "a", leaseToken: token.get("a")!, result: 1 },
      { kind: "failed", taskId: "b", leaseToken: token.get("b")!, error: "later", errorCode: "E", retryInMs: 5 },
    ]);
    expect(finished.events.map((e) => e.type)).toEqual(["completed", "retrying"]);
    expect(log).toEqual(["query"]);

    log.length = 0;
    const failed = await h.store.finish([
      { kind: "failed", taskId: "c", leaseToken: token.get("c")!, error: "no", errorCode: "E" },
    ]);
    expect(failed.events.map((e) => [e.type, e.treeFinished])).toEqual([["failed", undefined]]);
    expect(log).toEqual(["transaction"]);
  });
});
