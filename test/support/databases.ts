/**
 * Databases for tests. Every PostgreSQL test gets its own fresh database, copied
 * from a migrated template (CREATE DATABASE ... TEMPLATE is a file copy: much faster
 * than migrating each time). The template is named after the migrations' checksums,
 * so a server shared between runs reuses it until a migration changes; it is built
 * under an advisory lock (test files run in parallel processes) and renamed into
 * place only when complete, so a crashed build is never used.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { inject } from "vitest";
import { type Database, MEMORY_DATA_DIR, type OpenDatabaseOptions, openDatabase } from "../../src/storage/database.js";
import { migrate, readMigrations } from "../../src/storage/migrate.js";
import { createPgSql } from "../../src/storage/sql-pg.js";
import { createPgliteSql } from "../../src/storage/sql-pglite.js";

/** Advisory lock key guarding template builds ("apftmp" in ASCII). */
const TEMPLATE_LOCK_KEY = 0x617066746d70;
/** SQLSTATE object_in_use: a database still has sessions (they end asynchronously). */
const OBJECT_IN_USE = "55006";

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, ending any session still connected. */
  drop(): Promise<void>;
}

export interface OpenedTestDatabase {
  db: Database;
  /** Closes the database and deletes whatever it created (database or directory). */
  cleanup(): Promise<void>;
}

/** The URL of the suite's PostgreSQL server (its maintenance database). */
export function testPostgresUrl(): string {
  return inject("postgresUrl");
}

function urlOf(database: string): string {
  const url = new URL(testPostgresUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs a DDL statement, retrying while the database it names still has closing sessions. */
async function ddl(client: pg.Client, text: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(text);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== OBJECT_IN_USE || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

let template: Promise<string> | undefined;

async function buildTemplate(): Promise<string> {
  const migrations = await readMigrations();
  const hash = createHash("sha256")
    .update(migrations.map((m) => `${m.name}:${m.checksum}`).join("\n"))
    .digest("hex")
    .slice(0, 16);
  const name = `apflow_tmpl_${hash}`;
  return withAdmin(async (admin) => {
    await admin.query("SELECT pg_advisory_lock($1::bigint)", [TEMPLATE_LOCK_KEY]);
    try {
      const found = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (found.rowCount === 0) {
        const building = `${name}_building`;
        await admin.query(`DROP DATABASE IF EXISTS ${ident(building)} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${ident(building)}`);
        const sql = createPgSql(new pg.Pool({ connectionString: urlOf(building), max: 1 }));
        try {
          await migrate(sql);
        } finally {
          await sql.close();
        }
        await ddl(admin, `ALTER DATABASE ${ident(building)} RENAME TO ${ident(name)}`);
      }
      return name;
    } finally {
      await admin.query("SELECT pg_advisory_unlock($1::bigint)", [TEMPLATE_LOCK_KEY]);
    }
  });
}

let counter = 0;

let pgliteTemplate: Promise<Blob> | undefined;

/** A migrated PGlite cluster as a dump: loading it is several times faster than initdb plus migrations. */
async function buildPgliteTemplate(): Promise<Blob> {
  const pglite = await PGlite.create(MEMORY_DATA_DIR);
  const sql = createPgliteSql(pglite);
  try {
    await migrate(sql);
    return await pglite.dumpDataDir("none");
  } finally {
    await sql.close();
  }
}

/**
 * A new, uniquely named database on the test server: migrated (a copy of the
 * template) unless `migrated: false`, which gives an empty one.
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  if (migrated) template ??= buildTemplate();
  const source = migrated ? await template : undefined;
  const name = `apflow_test_${process.pid}_${++counter}_${randomBytes(3).toString("hex")}`;
  await withAdmin((admin) => ddl(admin, `CREATE DATABASE ${ident(name)}${source ? ` TEMPLATE ${ident(source)}` : ""}`));
  let dropped = false;
  return {
    name,
    url: urlOf(name),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
    },
  };
}

/**
 * An opened, migrated Database. PGlite is in memory (loaded from a migrated dump
 * made once per test file) unless `onDisk`, then in a fresh temporary directory
 * and migrated for real; PostgreSQL is a fresh database on the test server.
 */
export async function openTestDatabase(
  kind: "pglite" | "postgres",
  options: { onDisk?: boolean } & Pick<OpenDatabaseOptions, "logger" | "poolSize"> = {},
): Promise<OpenedTestDatabase> {
  const { onDisk, ...rest } = options;
  if (kind === "postgres") {
    const database = await createTestDatabase();
    try {
      const db = await openDatabase({ ...rest, databaseUrl: database.url });
      return {
        db,
        async cleanup() {
          await db.close();
          await database.drop();
        },
      };
    } catch (error) {
      await database.drop();
      throw error;
    }
  }
  const dir = onDisk ? await mkdtemp(path.join(tmpdir(), "apflow-test-pglite-")) : undefined;
  const removeDir = async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  if (!dir) pgliteTemplate ??= buildPgliteTemplate();
  const pgliteDump = dir ? undefined : await pgliteTemplate;
  const db = await openDatabase({
    ...rest,
    dataDir: dir ?? MEMORY_DATA_DIR,
    ...(pgliteDump ? { pgliteDump } : {}),
  }).catch(async (error: unknown) => {
    await removeDir();
    throw error;
  });
  return {
    db,
    async cleanup() {
      await db.close();
      await removeDir();
    },
  };
}
