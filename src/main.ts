/**
 * `npm start`: the GraphQL server on the configured storage (embedded PGlite in
 * ./.apflow by default). SIGINT/SIGTERM stop it cleanly: new work stops, running
 * tasks get APFLOW_SHUTDOWN_GRACE seconds, the rest are requeued for the next start.
 */
import { createApflow } from "./apflow.js";
import { loadConfig } from "./config/index.js";
import { errorMessage, isApflowError } from "./core/errors.js";
import { buildApp } from "./server/app.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const plannedUrl = `http://${config.host}:${config.port}/graphql`;
  const apflow = await createApflow({ ...config, apiUrl: plannedUrl });
  const app = buildApp({
    apflow,
    port: config.port,
    host: config.host,
    limits: { maxDepth: config.graphql.maxDepth, maxCost: config.graphql.maxCost },
    maxBodyBytes: config.graphql.maxBodyBytes,
  });
  try {
    const url = await app.start();
    process.stdout.write(
      `apflow GraphQL server ready at ${url} (WebSocket ${app.wsUrl}); storage: ${describe(apflow)}\n`,
    );
  } catch (error) {
    await apflow.close();
    throw error;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means "now": the stale lock is replaced and our leases requeued on the next start.
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    apflow.logger.info("shutting down (send the signal again to stop at once)", { signal });
    // Should closing hang, do not hang forever.
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 15_000).unref();
    app
      .stop()
      .then(() => apflow.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          apflow.logger.error("shutdown failed", { error });
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

function describe(apflow: Awaited<ReturnType<typeof createApflow>>): string {
  return apflow.database.dialect === "pglite" ? `embedded PGlite in ${apflow.database.dataDir}` : "PostgreSQL";
}

main().catch((error: unknown) => {
  process.stderr.write(`apflow failed to start: ${errorMessage(error)}\n`);
  process.exit(isApflowError(error) ? 2 : 1);
});
