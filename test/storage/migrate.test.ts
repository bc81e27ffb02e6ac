// The migration runner on both databases: applies once, records Prisma's format,
// rejects edited migrations, rolls back failures, and survives concurrent runners.
import { createHash } from "node:crypto";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors.js";
import { defaultMigrationsDir, migrate, readMigrations } from "../../src/storage/migrate.js";
import type { Sql } from "../../src/storage/sql.js";
import { createPgSql } from "../../src/storage/sql-pg.js";
import { createPgliteSql } from "../../src/storage/sql-pglite.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const history = (sql: Sql) =>
  sql.query<HistoryRow>(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at`);

/** A writable copy of the project's migrations, to add or edit files in. */
async function copyMigrations(): Promise<{ dir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), "apflow-migrations-"));
  const dir = path.join(root, "migrations");
  await cp(defaultMigrationsDir(), dir, { recursive: true });
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

async function addMigration(dir: string, name: string, sqlText: string): Promise<string> {
  await mkdir(path.join(dir, name));
  const file = path.join(dir, name, "migration.sql");
  await writeFile(file, sqlText);
  return file;
}

describe.each(["pglite", "postgres"] as const)("migrate on %s", (kind) => {
  let sql: Sql;
  let database: TestDatabase | undefined;
  let copy: { dir: string; remove(): Promise<void> } | undefined;

  beforeEach(async () => {
    if (kind === "pglite") {
      sql = createPgliteSql(await PGlite.create("memory://"));
    } else {
      database = await createTestDatabase({ migrated: false });
      sql = createPgSql(new pg.Pool({ connectionString: database.url, max: 3 }));
    }
  });

  afterEach(async () => {
    await sql.close();
    await database?.drop();
    await copy?.remove();
    database = undefined;
    copy = undefined;
  });

  it("applies every migration in order, recorded in Prisma's format, and nothing on a second run", async () => {
    const files = await readMigrations();
    expect(files.length).toBeGreaterThan(0);

    const first = await migrate(sql);
    expect(first.applied).toEqual(files.map((f) => f.name));

    const rows = await history(sql);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      const bytes = await readFile(path.join(defaultMigrationsDir(), row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(row.checksum).toBe(files[i]?.checksum);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    // The schema is really there.
    expect(await sql.query("SELECT count(*)::int AS n FROM tasks")).toEqual([{ n: 0 }]);

    const second = await migrate(sql);
    expect(second.applied).toEqual([]);
    expect(await history(sql)).toHaveLength(files.length);
  });

  it("applies only a migration added later", async () => {
    copy = await copyMigrations();
    await migrate(sql, { migrationsDir: copy.dir });
    await addMigration(
      copy.dir,
      "29991231000000_extra",
      "CREATE TABLE extra (id INT PRIMARY KEY);\nINSERT INTO extra VALUES (1), (2);\n",
    );

    const result = await migrate(sql, { migrationsDir: copy.dir });

    expect(result.applied).toEqual(["29991231000000_extra"]);
    expect(await sql.query("SELECT id FROM extra ORDER BY id")).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("fills dependency_list from the dependency rows of a database created before it", async () => {
    copy = await copyMigrations();
    const later = path.join(copy.dir, "20261124080000_dependency_list");
    const held = `${copy.dir}-held`;
    await cp(later, held, { recursive: true });
    await rm(later, { recursive: true });
    await migrate(sql, { migrationsDir: copy.dir });
    await sql.query("INSERT INTO task_trees (id) VALUES ('r')");
    await sql.query(
      `INSERT INTO tasks (id, tree_id, parent_id, name, executor, updated_at)
       VALUES ('r', 'r', NULL, 'r', 'noop', now()), ('a', 'r', 'r', 'a', 'noop', now()), ('b', 'r', 'r', 'b', 'noop', now())`,
    );
    await sql.query(
      `INSERT INTO task_dependencies (task_id, depends_on_id, required, position)
       VALUES ('r', 'b', true, 0), ('r', 'a', false, 1)`,
    );
    await cp(held, later, { recursive: true });
    expect((await migrate(sql, { migrationsDir: copy.dir })).applied).toEqual(["20261124080000_dependency_list"]);
    expect(await sql.query("SELECT id, dependency_list FROM tasks ORDER BY id")).toEqual([
      { id: "a", dependency_list: [] },
      { id: "b", dependency_list: [] },
      {
        id: "r",
        dependency_list: [
          { id: "b", required: true },
          { id: "a", required: false },
        ],
      },
    ]);
  });

  it("fails with STORAGE_ERROR when an applied migration's file was edited", async () => {
    copy = await copyMigrations();
    const file = await addMigration(copy.dir, "29991231000000_extra", "CREATE TABLE extra (id INT);\n");
    await migrate(sql, { migrationsDir: copy.dir });
    await appendFile(file, "-- edited afterwards\n");

    const error = await migrate(sql, { migrationsDir: copy.dir }).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: "ApflowError", code: ErrorCode.STORAGE_ERROR });
    expect((error as Error).message).toContain("29991231000000_extra");
    expect((error as Error).message).toContain("changed after it was applied");
  });

  it("rolls a failing migration back entirely and records nothing, then applies it once fixed", async () => {
    copy = await copyMigrations();
    const file = await addMigration(
      copy.dir,
      "29991231000000_broken",
      "CREATE TABLE half_done (id INT);\nSELECT * FROM no_such_table;\n",
    );

    const error = await migrate(sql, { migrationsDir: copy.dir }).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: ErrorCode.STORAGE_ERROR });
    expect((error as Error).message).toMatch(/29991231000000_broken failed.*no_such_table/);
    expect(await sql.query("SELECT to_regclass('public.half_done') AS t")).toEqual([{ t: null }]);
    expect((await history(sql)).map((r) => r.migration_name)).not.toContain("29991231000000_broken");

    await writeFile(file, "CREATE TABLE half_done (id INT);\n");
    expect((await migrate(sql, { migrationsDir: copy.dir })).applied).toEqual(["29991231000000_broken"]);
  });
});

describe("migrate on PostgreSQL with concurrent runners", () => {
  it("lets nodes that start together all succeed, applying each migration once", async () => {
    const database = await createTestDatabase({ migrated: false });
    // Separate pools: separate "nodes".
    const nodes = Array.from({ length: 4 }, () => createPgSql(new pg.Pool({ connectionString: database.url, max: 2 })));
    try {
      const results = await Promise.all(nodes.map((node) => migrate(node)));

      const names = (await readMigrations()).map((f) => f.name);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
      const rows = await nodes[0]!.query<{ migration_name: string }>(
        `SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      expect(rows.map((r) => r.migration_name)).toEqual(names);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
      await database.drop();
    }
  });
});
