// The Sql port behaves the same on PGlite and PostgreSQL: value parsing, multi-
// statement queries, transactions; and on PostgreSQL, retries after a deadlock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sql } from "../../src/storage/sql.js";
import { type OpenedTestDatabase, openTestDatabase } from "../support/databases.js";

describe.each(["pglite", "postgres"] as const)("Sql on %s", (kind) => {
  let opened: OpenedTestDatabase;
  let sql: Sql;

  beforeAll(async () => {
    opened = await openTestDatabase(kind);
    sql = opened.db.sql;
  });

  afterAll(async () => {
    await opened.cleanup();
  });

  it("returns int8 as a number (a bigint beyond 2^53), like PGlite", async () => {
    const [row] = await sql.query(
      "SELECT $1::int8 AS small, 9007199254740993::int8 AS big, '{1,NULL,3}'::int8[] AS arr",
      [5],
    );
    expect(row).toEqual({ small: 5, big: 9007199254740993n, arr: [1, null, 3] });
  });

  it("parses jsonb, timestamptz and booleans the same way", async () => {
    const [row] = await sql.query<{ j: unknown; t: unknown; b: unknown }>(
      "SELECT $1::jsonb AS j, '2026-01-02T03:04:05.678Z'::timestamptz AS t, true AS b",
      [JSON.stringify({ a: [1, "x"] })],
    );
    expect(row).toEqual({ j: { a: [1, "x"] }, t: new Date("2026-01-02T03:04:05.678Z"), b: true });
  });

  it("runs several statements in a query without parameters and returns the last one's rows", async () => {
    const rows = await sql.query(
      "CREATE TEMP TABLE multi (v int); INSERT INTO multi VALUES (1), (2); SELECT v FROM multi ORDER BY v",
    );
    expect(rows).toEqual([{ v: 1 }, { v: 2 }]);
  });

  it("commits a transaction's writes and returns its value", async () => {
    await sql.query("CREATE TABLE IF NOT EXISTS tx_test (v int)");
    const value = await sql.transaction(async (tx) => {
      await tx.query("INSERT INTO tx_test VALUES ($1)", [1]);
      return (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM tx_test"))[0]?.n;
    });
    expect(value).toBe(1);
    expect(await sql.query("SELECT v FROM tx_test")).toEqual([{ v: 1 }]);
  });

  it("rolls back when the function throws, and is usable afterwards", async () => {
    await sql.query("CREATE TABLE IF NOT EXISTS tx_rollback (v int)");
    await expect(
      sql.transaction(async (tx) => {
        await tx.query("INSERT INTO tx_rollback VALUES (1)");
        await tx.query("SELECT * FROM no_such_table");
      }),
    ).rejects.toThrow(/no_such_table/);
    expect(await sql.query("SELECT v FROM tx_rollback")).toEqual([]);
  });

  it("prepares a statement with parameters once per connection and reuses it", async () => {
    const text = "SELECT $1::int + 1 AS v";
    const prepared = await sql.transaction(async (tx) => {
      for (let i = 0; i < 3; i++) expect(await tx.query(text, [i])).toEqual([{ v: i + 1 }]);
      return tx.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1 AND NOT from_sql",
        [text],
      );
    });
    expect(prepared).toEqual([{ n: 1 }]);
  });

  it("answers a bad value with the database's error and runs the statement again afterwards", async () => {
    const text = "SELECT $1::jsonb -> 'a' AS a";
    await expect(sql.query(text, ["{not json"])).rejects.toMatchObject({ code: "22P02" });
    expect(await sql.query(text, ['{"a": 1}'])).toEqual([{ a: 1 }]);
    await expect(sql.transaction((tx) => tx.query(text, ["{not json"]))).rejects.toMatchObject({ code: "22P02" });
    expect(await sql.transaction((tx) => tx.query(text, ['{"a": 2}']))).toEqual([{ a: 2 }]);
  });

  it("never runs a statement of its own inside another caller's open transaction", async () => {
    await sql.query("CREATE TABLE IF NOT EXISTS tx_isolated (v int)");
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inserted!: () => void;
    const didInsert = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    let committed = false;
    const open = sql
      .transaction(async (tx) => {
        await tx.query("INSERT INTO tx_isolated VALUES ($1)", [7]);
        inserted();
        await released;
      })
      .then(() => {
        committed = true;
      });
    await didInsert;
    const outside = sql
      .query<{ n: number }>("SELECT count(*)::int AS n FROM tx_isolated WHERE v = $1", [7])
      .then(([row]) => ({ n: row!.n, committed }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await open;
    // PostgreSQL answers from another connection at once (nothing committed yet);
    // PGlite, one connection, waits for the commit. Seeing the row uncommitted would
    // mean the statement ran inside the other transaction.
    expect(await outside).toEqual(kind === "postgres" ? { n: 0, committed: false } : { n: 1, committed: true });
  });
});

describe("Sql on postgres: retries", () => {
  let opened: OpenedTestDatabase;
  let sql: Sql;

  beforeAll(async () => {
    opened = await openTestDatabase("postgres", { poolSize: 4 });
    sql = opened.db.sql;
  });

  afterAll(async () => {
    await opened.cleanup();
  });

  it("retries the whole function after a serialization failure", async () => {
    let calls = 0;
    const value = await sql.transaction(async () => {
      calls++;
      if (calls === 1) throw Object.assign(new Error("could not serialize access"), { code: "40001" });
      return "done";
    });
    expect({ value, calls }).toEqual({ value: "done", calls: 2 });
  });

  it("does not retry other errors, and gives up after a few attempts", async () => {
    let calls = 0;
    await expect(
      sql.transaction(async () => {
        calls++;
        throw new Error("plain");
      }),
    ).rejects.toThrow("plain");
    expect(calls).toBe(1);

    calls = 0;
    await expect(
      sql.transaction(async () => {
        calls++;
        throw Object.assign(new Error("deadlock detected"), { code: "40P01" });
      }),
    ).rejects.toThrow("deadlock detected");
    expect(calls).toBe(5);
  });

  it("retries a statement run on its own that loses a real deadlock", async () => {
    await sql.query(
      "CREATE TABLE deadlock_one (id int PRIMARY KEY, v int); INSERT INTO deadlock_one VALUES (1, 0), (2, 0)",
    );
    // One statement that locks row `first`, sleeps, then locks row `second`: two of
    // them in opposite order deadlock, and PostgreSQL aborts one after deadlock_timeout.
    const lockInOrder = (first: number, second: number) =>
      sql.query(
        `WITH a AS (UPDATE deadlock_one SET v = v + 1 WHERE id = $1 RETURNING 1),
              pause AS (SELECT pg_sleep(0.3) FROM a),
              b AS (UPDATE deadlock_one SET v = v + 1 WHERE id = $2 AND EXISTS (SELECT 1 FROM pause) RETURNING 1)
         SELECT count(*) AS n FROM b`,
        [first, second],
      );
    const results = await Promise.all([lockInOrder(1, 2), lockInOrder(2, 1)]);
    expect(results).toEqual([[{ n: 1 }], [{ n: 1 }]]);
    expect(await sql.query("SELECT id, v FROM deadlock_one ORDER BY id")).toEqual([
      { id: 1, v: 2 },
      { id: 2, v: 2 },
    ]);
  });

  it("retries the loser of a real deadlock, so both transactions commit", async () => {
    await sql.query("CREATE TABLE deadlock (id int PRIMARY KEY, v int); INSERT INTO deadlock VALUES (1, 0), (2, 0)");
    let arrived = 0;
    let release!: () => void;
    const bothHoldOneRow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const attempts = { a: 0, b: 0 };
    const lockInOrder = (who: "a" | "b", first: number, second: number) =>
      sql.transaction(async (tx) => {
        attempts[who]++;
        await tx.query("UPDATE deadlock SET v = v + 1 WHERE id = $1", [first]);
        if (attempts[who] === 1) {
          if (++arrived === 2) release();
          await bothHoldOneRow;
        }
        await tx.query("UPDATE deadlock SET v = v + 1 WHERE id = $1", [second]);
      });

    await Promise.all([lockInOrder("a", 1, 2), lockInOrder("b", 2, 1)]);

    expect(attempts.a + attempts.b).toBe(3);
    expect(await sql.query("SELECT id, v FROM deadlock ORDER BY id")).toEqual([
      { id: 1, v: 2 },
      { id: 2, v: 2 },
    ]);
  });
});
