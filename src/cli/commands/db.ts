/** `apflow db migrate`. */
import { redactUrl } from "../../core/redact.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { count } from "../output/task-format.js";

export const dbMigrateCommand: Command = {
  name: "db migrate",
  summary: "Apply pending database migrations and print what was applied",
  details: [
    "Always works on the database itself (DATABASE_URL, or the embedded one in APFLOW_DATA_DIR),",
    "never through an API. apflow also migrates at every start; this is for deploys and checks.",
  ].join("\n"),
  async run(ctx) {
    const config = ctx.config();
    const where = config.databaseUrl
      ? `PostgreSQL at ${redactUrl(config.databaseUrl)}`
      : `the embedded database in ${config.dataDir}`;
    const [{ openDatabase }, { migrate }] = await Promise.all([
      import("../../storage/database.js"),
      import("../../storage/migrate.js"),
    ]);
    const warn = (message: string) => ctx.out.error(`warning: ${message}`);
    const logger = { debug: () => {}, info: () => {}, warn, error: warn };
    const db = await openDatabase({
      ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: config.dataDir }),
      migrate: false,
      logger,
    });
    try {
      const { applied } = await migrate(db.sql, { logger });
      if (ctx.out.json) ctx.out.printJson({ database: where, applied });
      else if (applied.length === 0) ctx.out.print(`${where}: up to date, nothing to apply.`);
      else {
        ctx.out.print(`${where}: applied ${count(applied.length, "migration")}:`);
        for (const name of applied) ctx.out.print(`  ${name}`);
      }
    } finally {
      await db.close();
    }
    return ExitCode.OK;
  },
};
