/**
 * apflow's own migration runner. `prisma migrate deploy` cannot run through driver
 * adapters offline (see docs/toolchain), so the SQL files that `prisma migrate diff`
 * writes under prisma/migrations are applied here, each in its own transaction, and
 * recorded in `_prisma_migrations` in Prisma's own format (so Prisma tooling still
 * reads the history). It runs at every start, on PGlite and on PostgreSQL.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ApflowError, ErrorCode, errorMessage, isApflowError } from "../core/errors.js";
import type { Logger } from "../core/executor.js";
import type { Sql, SqlQueryable } from "./sql.js";

/**
 * Advisory lock key of the runner ("apflow" in ASCII). Advisory locks are per
 * database, so runners on different databases never wait for each other.
 */
export const MIGRATION_LOCK_KEY = 0x6170666c6f77;

export interface MigrateOptions {
  /** Folder of `<name>/migration.sql`; defaults to the package's prisma/migrations. */
  migrationsDir?: string;
  logger?: Pick<Logger, "info" | "warn">;
}

export interface MigrateResult {
  /** Names of the migrations this run applied, in order (empty when up to date). */
  applied: string[];
}

export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 hex of the file, as Prisma records it. */
  checksum: string;
}

// Prisma's own DDL for its history table.
const CREATE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** The package root (the nearest folder above this file with a package.json), so cwd does not matter. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new ApflowError(ErrorCode.STORAGE_ERROR, "Cannot find apflow's package.json.");
    dir = parent;
  }
  return dir;
}

export function defaultMigrationsDir(): string {
  return path.join(packageRoot(), "prisma", "migrations");
}

/** The migrations on disk, in name order. */
export async function readMigrations(migrationsDir = defaultMigrationsDir()): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(migrationsDir);
  } catch (error) {
    throw new ApflowError(
      ErrorCode.STORAGE_ERROR,
      `Cannot read the migrations folder ${migrationsDir}: ${errorMessage(error)}`,
      undefined,
      { cause: error },
    );
  }
  const files: MigrationFile[] = [];
  for (const name of entries.sort()) {
    const file = path.join(migrationsDir, name, "migration.sql");
    if (!existsSync(file)) continue; // migration_lock.toml and the like
    const bytes = await fs.readFile(file);
    files.push({ name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") });
  }
  return files;
}

interface HistoryRow {
  checksum: string;
  finished_at: Date | null;
}

/**
 * On PostgreSQL every step first takes a transaction-scoped advisory lock, so
 * concurrent runners (nodes starting together) take turns: the one that waits
 * re-reads the history after the lock and skips what the other applied. A
 * transaction lock is released by COMMIT/ROLLBACK on its own connection, so it can
 * never leak or be unlocked from another pooled connection. PGlite is a single
 * connection and needs no lock.
 */
async function lock(sql: Sql, tx: SqlQueryable): Promise<void> {
  if (sql.dialect === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
}

/** Applies `migration` unless already applied; true when it applied it. */
async function applyOne(sql: Sql, migration: MigrationFile): Promise<boolean> {
  return sql.transaction(async (tx) => {
    await lock(sql, tx);
    const rows = await tx.query<HistoryRow>(
      `SELECT checksum, finished_at FROM "_prisma_migrations"
       WHERE migration_name = $1 AND rolled_back_at IS NULL`,
      [migration.name],
    );
    const done = rows.find((row) => row.finished_at !== null);
    if (done) {
      if (done.checksum !== migration.checksum) {
        throw new ApflowError(
          ErrorCode.STORAGE_ERROR,
          `Migration ${migration.name} was changed after it was applied to this database ` +
            `(recorded checksum ${done.checksum}, file ${migration.checksum}). ` +
            "Applied migrations must not be edited: restore the file and put the change in a new migration.",
          { migration: migration.name, recorded: done.checksum, file: migration.checksum },
        );
      }
      return false;
    }
    if (rows.length > 0) {
      throw new ApflowError(
        ErrorCode.STORAGE_ERROR,
        `Migration ${migration.name} is recorded as started but not finished (by another tool). ` +
          `Check the schema by hand, then mark it rolled back in "_prisma_migrations".`,
        { migration: migration.name },
      );
    }
    try {
      await tx.query(migration.sql);
    } catch (error) {
      throw new ApflowError(
        ErrorCode.STORAGE_ERROR,
        `Migration ${migration.name} failed and was rolled back: ${errorMessage(error)}`,
        { migration: migration.name },
        { cause: error },
      );
    }
    await tx.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
       VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    return true;
  });
}

/** Applies every migration not yet applied, in name order. */
export async function migrate(sql: Sql, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await readMigrations(options.migrationsDir);
  const applied: string[] = [];
  try {
    await sql.transaction(async (tx) => {
      await lock(sql, tx);
      await tx.query(CREATE_HISTORY_TABLE);
    });
    for (const migration of migrations) {
      const started = Date.now();
      if (await applyOne(sql, migration)) {
        applied.push(migration.name);
        options.logger?.info(`Applied migration ${migration.name} in ${Date.now() - started} ms`, {
          migration: migration.name,
        });
      }
    }
    const known = new Set(migrations.map((m) => m.name));
    const recorded = await sql.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL`,
    );
    const unknown = recorded.map((row) => row.migration_name).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      options.logger?.warn(
        `The database has migrations this version of apflow does not know (${unknown.join(", ")}); ` +
          "it was probably migrated by a newer version.",
        { unknown },
      );
    }
  } catch (error) {
    if (isApflowError(error)) throw error;
    throw new ApflowError(ErrorCode.STORAGE_ERROR, `Migrating the database failed: ${errorMessage(error)}`, undefined, {
      cause: error,
    });
  }
  return { applied };
}
