/**
 * One apflow node for bench/cluster.ts, in its own process (its own event loop):
 *
 *   node --import tsx bench/cluster-node.ts
 *
 * Configured by the parent through the environment: BENCH_NODE_DATABASE_URL,
 * BENCH_NODE_ID, BENCH_CONCURRENCY (maxParallelTasks), BENCH_POLL_MS. Registers the
 * `noop` executor, prints `{"ready":true}` on stdout once the engine runs, and on
 * SIGTERM/SIGINT closes the node and exits 0. Exits on its own if the parent dies.
 */
import { createApflow, defineExecutor } from "../src/index.js";

const databaseUrl = process.env.BENCH_NODE_DATABASE_URL;
if (!databaseUrl) throw new Error("BENCH_NODE_DATABASE_URL is required");

const noop = defineExecutor({
  id: "noop",
  description: "Does nothing: the benchmark measures the engine, not the work.",
  inputSchema: { type: "object" },
  execute: async () => null,
});

// Do not outlive the benchmark if it dies without killing its children.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(2);
}, 1_000).unref();

const apflow = await createApflow({
  databaseUrl,
  nodeId: process.env.BENCH_NODE_ID ?? `bench-node-${process.pid}`,
  maxParallelTasks: Number(process.env.BENCH_CONCURRENCY ?? 100),
  pollIntervalMs: Number(process.env.BENCH_POLL_MS ?? 50),
  logLevel: "silent",
  executors: [noop],
});
process.stdout.write(`${JSON.stringify({ ready: true, nodeId: apflow.nodeId, pid: process.pid })}\n`);

let closing = false;
const shutdown = () => {
  if (closing) return;
  closing = true;
  apflow.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`close failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
