/**
 * `npm run db:migrate`: applies pending migrations to the configured database and
 * says what it did. Useful before a rolling deploy, or to check a database by hand;
 * apflow also migrates at every start.
 */
import { errorMessage, isApflowError } from "../core/errors.js";
import { openDatabase, redactUrl } from "./database.js";
import { migrate } from "./migrate.js";

/** The only place here that reads the environment (until config.ts owns it). */
function readEnv(): { databaseUrl?: string; dataDir: string } {
  const databaseUrl = process.env.DATABASE_URL?.trim();
  return {
    ...(databaseUrl ? { databaseUrl } : {}),
    dataDir: process.env.APFLOW_DATA_DIR?.trim() || "./.apflow",
  };
}

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const env = readEnv();
  const where = env.databaseUrl ? `PostgreSQL at ${redactUrl(env.databaseUrl)}` : `embedded database in ${env.dataDir}`;
  const logger = {
    debug: () => {},
    info: () => {},
    warn: (message: string) => process.stderr.write(`warning: ${message}\n`),
    error: (message: string) => process.stderr.write(`error: ${message}\n`),
  };
  const db = await openDatabase({ ...env, migrate: false, logger });
  try {
    const { applied } = await migrate(db.sql, { logger });
    if (applied.length === 0) {
      print(`${where}: up to date, nothing to apply.`);
    } else {
      print(`${where}: applied ${applied.length} migration(s):`);
      for (const name of applied) print(`  ${name}`);
    }
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  const code = isApflowError(error) ? ` [${error.code}]` : "";
  process.stderr.write(`db:migrate failed${code}: ${errorMessage(error)}\n`);
  process.exitCode = 1;
});
