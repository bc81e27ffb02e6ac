// openDatabase end to end: PGlite on disk survives close and reopen, Prisma and raw
// SQL share one database, the data directory is locked, PostgreSQL opens the same way.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors.js";
import { LOCK_FILE_NAME } from "../../src/storage/data-dir-lock.js";
import { type Database, MEMORY_DATA_DIR, openDatabase } from "../../src/storage/database.js";
import { openTestDatabase } from "../support/databases.js";

describe("openDatabase with PGlite in a directory", () => {
  let dir: string;
  const opened: Database[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "apflow-db-"));
  });

  afterEach(async () => {
    for (const db of opened.splice(0)) await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = async () => {
    const db = await openDatabase({ dataDir: dir });
    opened.push(db);
    return db;
  };

  it("keeps what Prisma and raw SQL wrote across close and reopen", async () => {
    const first = await open();
    expect(first.dialect).toBe("pglite");
    expect(first.dataDir).toBe(path.resolve(dir));
    expect(existsSync(path.join(dir, "pgdata"))).toBe(true);
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(true);

    await first.prisma.taskTree.create({ data: { id: "via-prisma", eventSeq: 7n } });
    await first.sql.query("INSERT INTO task_trees (id, event_seq) VALUES ($1, $2)", ["via-sql", 8]);
    await first.sql.transaction(async (tx) => {
      await tx.query("INSERT INTO task_trees (id) VALUES ($1)", ["via-transaction"]);
    });
    // Each sees the other's writes: one PGlite instance underneath.
    expect(await first.prisma.taskTree.count()).toBe(3);
    await first.close();
    await first.close(); // idempotent
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(false);

    const second = await open();
    const trees = await second.prisma.taskTree.findMany({ orderBy: { id: "asc" }, select: { id: true } });
    expect(trees.map((t) => t.id)).toEqual(["via-prisma", "via-sql", "via-transaction"]);
    const rows = await second.sql.query<{ id: string; event_seq: unknown }>(
      "SELECT id, event_seq FROM task_trees WHERE id IN ('via-prisma', 'via-sql') ORDER BY id",
    );
    expect(rows).toEqual([
      { id: "via-prisma", event_seq: 7 },
      { id: "via-sql", event_seq: 8 },
    ]);
  });

  it("refuses a second open of the same directory while the first is open", async () => {
    const first = await open();

    const error = await openDatabase({ dataDir: dir }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED });
    expect((error as Error).message).toContain(`process ${process.pid}`);
    // The failed attempt left the first one working and still locked.
    expect(await first.sql.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(true);
  });
});

describe("openDatabase configuration errors", () => {
  it("needs a data directory when there is no database URL", async () => {
    await expect(openDatabase({})).rejects.toMatchObject({ code: ErrorCode.CONFIG_ERROR });
  });

  it("rejects a URL that is not PostgreSQL", async () => {
    await expect(openDatabase({ databaseUrl: "mysql://localhost/x" })).rejects.toMatchObject({
      code: ErrorCode.CONFIG_ERROR,
    });
  });

  it("says which server it could not reach, without the password", async () => {
    const error = await openDatabase({ databaseUrl: "postgresql://u:secret@127.0.0.1:1/x" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.STORAGE_ERROR });
    expect((error as Error).message).toContain("127.0.0.1:1");
    expect((error as Error).message).not.toContain("secret");
  });
});

describe.each(["pglite", "postgres"] as const)("openDatabase on %s", (kind) => {
  it("opens migrated, with Prisma and raw SQL on the same data", async () => {
    const { db, cleanup } = await openTestDatabase(kind);
    try {
      expect(db.dialect).toBe(kind);
      if (kind === "pglite") expect(db.dataDir).toBe(MEMORY_DATA_DIR);
      else expect(db.url).toMatch(/^postgresql:\/\//);

      await db.prisma.taskTree.create({ data: { id: "t1", eventSeq: 41n } });
      const rows = await db.sql.query<{ event_seq: unknown }>(
        "UPDATE task_trees SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
        ["t1"],
      );
      expect(rows).toEqual([{ event_seq: 42 }]);
      expect((await db.prisma.taskTree.findUniqueOrThrow({ where: { id: "t1" } })).eventSeq).toBe(42n);

      // A transaction that throws leaves nothing behind.
      await expect(
        db.sql.transaction(async (tx) => {
          await tx.query("INSERT INTO task_trees (id) VALUES ('t2')");
          throw new Error("abort");
        }),
      ).rejects.toThrow("abort");
      expect(await db.prisma.taskTree.count()).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
