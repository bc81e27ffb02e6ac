/**
 * `apflow serve` (and `npm start`): the GraphQL server on the configured storage
 * (embedded PGlite in ./.apflow by default). SIGINT/SIGTERM stop it cleanly: new
 * work stops, running tasks get APFLOW_SHUTDOWN_GRACE seconds, the rest are
 * requeued for the next start; a second signal stops at once.
 */
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";

export const serveCommand: Command = {
  name: "serve",
  summary: "Start the GraphQL server (HTTP and WebSocket) on the configured storage",
  options: {
    port: { type: "string", value: "PORT", setting: "PORT", description: "Port to listen on (default 4000)." },
    host: { type: "string", value: "HOST", setting: "HOST", description: "Address to listen on (default 127.0.0.1)." },
  },
  details: [
    "Every setting (cluster, executors, limits...) comes from the environment, the configuration",
    "file and the flags; see the README's Configuration section. Ctrl-C stops the server: running",
    "tasks get APFLOW_SHUTDOWN_GRACE seconds, the rest run again at the next start.",
  ].join("\n"),
  async run(ctx) {
    const { config } = ctx.resolved();
    const [{ createApflow }, { buildApp }] = await Promise.all([
      import("../../apflow.js"),
      import("../../server/app.js"),
    ]);
    // Written into the data-dir lock, so CLI commands can find this server's API.
    const plannedUrl = `http://${config.host}:${config.port}/graphql`;
    const apflow = await createApflow({ config, apiUrl: plannedUrl });
    const app = buildApp({
      apflow,
      port: config.port,
      host: config.host,
      limits: { maxDepth: config.graphql.maxDepth, maxCost: config.graphql.maxCost },
      maxBodyBytes: config.graphql.maxBodyBytes,
    });
    let url: string;
    try {
      url = await app.start();
    } catch (error) {
      await apflow.close();
      throw error;
    }
    const storage =
      apflow.database.dialect === "pglite" ? `embedded PGlite in ${apflow.database.dataDir}` : "PostgreSQL";
    if (ctx.out.json) ctx.out.printJson({ url, wsUrl: app.wsUrl, storage });
    else ctx.out.print(`apflow GraphQL server ready at ${url} (WebSocket ${app.wsUrl}); storage: ${storage}`);
    return new Promise<ExitCode>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          // A second signal means "now": the stale lock is replaced and our leases requeued on the next start.
          process.exit(signal === "SIGINT" ? ExitCode.INTERRUPTED : 143);
        }
        stopping = true;
        apflow.logger.info("shutting down (send the signal again to stop at once)", { signal });
        // Should closing hang, do not hang forever.
        setTimeout(() => process.exit(ExitCode.FAILED), config.shutdownGraceMs + 15_000).unref();
        app
          .stop()
          .then(() => apflow.close())
          .then(
            () => resolve(ExitCode.OK),
            (error: unknown) => {
              apflow.logger.error("shutdown failed", { error });
              resolve(ExitCode.FAILED);
            },
          );
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
  },
};
