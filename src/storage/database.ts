/**
 * Opens apflow's database: embedded PGlite in a data directory (the default) or a
 * PostgreSQL server. Prisma and the raw Sql port always share one underlying
 * connection source (the PGlite instance, or one pg pool), so they see the same
 * data and the same transactions' effects. Before returning it locks the data
 * directory (PGlite) and applies pending migrations.
 */
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { ApflowError, ErrorCode, errorMessage, isApflowError } from "../core/errors.js";
import type { Logger } from "../core/executor.js";
import { redactUrl } from "../core/redact.js";
import { type Prisma, PrismaClient } from "../generated/prisma/client.js";
import { acquireDataDirLock, type DataDirLock } from "./data-dir-lock.js";
import { migrate } from "./migrate.js";
import type { Sql } from "./sql.js";
import { createPgSql } from "./sql-pg.js";
import { createPgliteSql } from "./sql-pglite.js";

/** `dataDir` value meaning an in-memory PGlite (tests): nothing on disk, no lock. */
export { redactUrl };

export const MEMORY_DATA_DIR = "memory://";

export type StorageLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

export interface OpenDatabaseOptions {
  /** `postgresql://...` to use a server; absent for embedded PGlite. */
  databaseUrl?: string;
  /** PGlite's directory (files in `<dataDir>/pgdata`); required without databaseUrl. */
  dataDir?: string;
  /** Connections in the pg pool (PostgreSQL only). @defaultValue 10 */
  poolSize?: number;
  /** Written into the data-dir lock so other processes can find this one's API. */
  apiUrl?: string;
  /**
   * PGlite only, for a new data directory: start from this dump (`PGlite#dumpDataDir`)
   * instead of an empty cluster. Tests use a migrated dump to skip initdb and migrations.
   */
  pgliteDump?: Blob;
  /** Apply pending migrations before returning. @defaultValue true */
  migrate?: boolean;
  logger?: StorageLogger;
  /** Diagnostics: called with every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
}

export interface Database {
  sql: Sql;
  prisma: PrismaClient;
  dialect: Sql["dialect"];
  /** The PostgreSQL connection string (may contain a password: log `redactUrl(url)`). */
  url?: string;
  /** PGlite's data directory, resolved (or `memory://`). */
  dataDir?: string;
  /** Disconnects Prisma, closes the pool or PGlite, releases the lock. Idempotent. */
  close(): Promise<void>;
}

function storageError(message: string, error: unknown): ApflowError {
  return new ApflowError(ErrorCode.STORAGE_ERROR, `${message}: ${errorMessage(error)}`, undefined, { cause: error });
}

/** Runs every step, even after one fails, and rethrows the first failure. */
async function closeAll(steps: Array<(() => Promise<void>) | undefined>): Promise<void> {
  let failure: unknown;
  for (const step of steps) {
    try {
      await step?.();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= fn();
    return done;
  };
}

async function migrated(db: Database, options: OpenDatabaseOptions): Promise<Database> {
  if (options.migrate === false) return db;
  try {
    await migrate(db.sql, options.logger ? { logger: options.logger } : {});
    return db;
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

async function openPglite(dataDir: string, options: OpenDatabaseOptions): Promise<Database> {
  const inMemory = dataDir === MEMORY_DATA_DIR;
  const dir = inMemory ? dataDir : path.resolve(dataDir);
  // The lock comes first: nothing may touch pgdata while another process uses it.
  const lock: DataDirLock | undefined = inMemory
    ? undefined
    : await acquireDataDirLock(
        dir,
        options.apiUrl ? { url: options.apiUrl } : {},
        options.logger ? { logger: options.logger } : {},
      );
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(
      inMemory ? MEMORY_DATA_DIR : path.join(dir, "pgdata"),
      options.pgliteDump ? { loadDataDir: options.pgliteDump } : {},
    );
  } catch (error) {
    await lock?.release();
    throw storageError(`Cannot open the embedded database in ${dir}`, error);
  }
  const sql = createPgliteSql(pglite);
  // pglite-prisma-adapter 0.6.1 is typed against @prisma/driver-adapter-utils 6.10,
  // whose ArgType differs from 6.19's; it never reads argTypes, so only the types clash.
  const adapter = new PrismaPGlite(pglite) as unknown as NonNullable<Prisma.PrismaClientOptions["adapter"]>;
  const prisma = prismaClient(adapter, options);
  const close = once(() =>
    closeAll([() => prisma.$disconnect(), () => sql.close(), lock ? () => lock.release() : undefined]),
  );
  return migrated({ sql, prisma, dialect: "pglite", dataDir: dir, close }, options);
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<Database> {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ApflowError(
      ErrorCode.CONFIG_ERROR,
      `The database URL must start with postgresql:// (got ${redactUrl(url)}).`,
    );
  }
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle connection that breaks (server restart) must not crash the process.
  pool.on("error", (error) => options.logger?.warn(`PostgreSQL connection error: ${error.message}`));
  const sql = createPgSql(pool);
  try {
    await sql.query("SELECT 1");
  } catch (error) {
    await sql.close().catch(() => undefined);
    throw storageError(`Cannot connect to PostgreSQL at ${redactUrl(url)}`, error);
  }
  // One pool for both: Prisma's adapter accepts a pg.Pool and leaves it open on $disconnect.
  const prisma = prismaClient(new PrismaPg(pool), options);
  const close = once(() => closeAll([() => prisma.$disconnect(), () => sql.close()]));
  return migrated({ sql, prisma, dialect: "postgres", url, close }, options);
}

/** A Prisma client on the adapter; with `onQuery`, every statement it sends is reported. */
function prismaClient(
  adapter: NonNullable<Prisma.PrismaClientOptions["adapter"]>,
  options: OpenDatabaseOptions,
): PrismaClient {
  if (!options.onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ level: "query", emit: "event" }] });
  const onQuery = options.onQuery;
  prisma.$on("query", (event) => onQuery(event.query));
  return prisma;
}

/** Opens (and migrates) the database the options describe. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  try {
    if (options.databaseUrl) return await openPostgres(options.databaseUrl, options);
    if (!options.dataDir) {
      throw new ApflowError(
        ErrorCode.CONFIG_ERROR,
        "No database configured: give a PostgreSQL URL (DATABASE_URL) or a data directory for the embedded database.",
      );
    }
    return await openPglite(options.dataDir, options);
  } catch (error) {
    if (isApflowError(error)) throw error;
    throw storageError("Cannot open the database", error);
  }
}
