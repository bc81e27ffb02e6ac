/**
 * The child process of the crash tests: an apflow node that runs the crash tree
 * (./tree.ts) to the end, the way a real entry point would.
 *
 *   node --import tsx test/crash/worker.ts '<WorkerConfig as JSON>'
 *
 * Every task appends `<id> start` and `<id> end` to the log file with
 * appendFileSync, so each line is in the file the moment it is written and survives
 * a SIGKILL. When the engine publishes a task's `completed` event (it does so only
 * after the transaction that completed the task has committed) the worker appends
 * `<id> committed`: the child's own view of what was durable.
 *
 * stdout carries one JSON object per line: `ready` (pid, node id), `created` or
 * `resumed`, `finished` (every task's status and attempt), `signal`, `closed`, or
 * `error` (the code and message that createApflow or the run failed with; exit
 * code 1; `error-while-closing` when it happened after a shutdown signal).
 */
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { type Apflow, createApflow } from "../../src/apflow.js";
import { errorMessage, isApflowError } from "../../src/core/errors.js";
import { defineExecutor } from "../../src/core/executor.js";
import { crashTree, EXECUTOR_ID, ROOT_ID } from "./tree.js";

export interface WorkerConfig {
  /** The executor log (start / end / committed lines). */
  log: string;
  /** Embedded PGlite's data directory (when no databaseUrl). */
  dataDir?: string;
  databaseUrl?: string;
  nodeId?: string;
  leaseMs?: number;
  /** The cluster leader's lease: another node takes over housekeeping (requeueing expired task leases) after it. */
  leaderLeaseMs?: number;
  shutdownGraceMs?: number;
  maxParallelTasks?: number;
  /** Install SIGTERM / SIGINT handlers that close apflow, then exit 0. */
  handleSignals?: boolean;
  /** With handleSignals: after close(), leave the exit to Node (no process.exit). */
  naturalExit?: boolean;
  /** Shortest and longest executor sleep, ms. */
  sleepMs?: [number, number];
}

const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;
const [minSleep, maxSleep] = config.sleepMs ?? [50, 200];

function say(message: Record<string, unknown>): void {
  // stdout is a pipe: synchronous on Linux, so a line written is a line delivered.
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const slowAppend = defineExecutor({
  id: EXECUTOR_ID,
  description: "Logs its start, sleeps (abortably), logs its end.",
  inputSchema: { type: "object" },
  async execute(_inputs, ctx) {
    appendFileSync(config.log, `${ctx.task.id} start\n`);
    const ms = minSleep + Math.floor(Math.random() * (maxSleep - minSleep + 1));
    await sleep(ms, undefined, { signal: ctx.signal });
    appendFileSync(config.log, `${ctx.task.id} end\n`);
    return { sleptMs: ms };
  },
});

/** Set once a shutdown signal arrived: from then on the signal handler decides the exit code. */
let shuttingDown = false;

// The test runner may die without killing its children: do not outlive it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(2);
}, 1_000).unref();

async function main(): Promise<void> {
  let apflow: Apflow | undefined;
  if (config.handleSignals) {
    // As an entry point should: installed before anything is opened, so a signal that
    // arrives while createApflow() still runs also closes (after it resolves).
    let opened: Promise<Apflow> | undefined;
    const shutdown = (signal: NodeJS.Signals) => {
      shuttingDown = true;
      say({ event: "signal", signal });
      void (async () => {
        try {
          await (apflow ?? (await opened))?.close();
          say({ event: "closed" });
        } catch (error) {
          say({ event: "error", phase: "close", message: errorMessage(error) });
          process.exit(1);
        }
        if (!config.naturalExit) process.exit(0);
      })();
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
    opened = open();
    apflow = await opened;
  } else {
    apflow = await open();
  }
  say({ event: "ready", pid: process.pid, nodeId: apflow.nodeId, dialect: apflow.database.dialect });

  apflow.subscribe(ROOT_ID, (event) => {
    if (event.type === "completed") appendFileSync(config.log, `${event.taskId} committed\n`);
  });
  if (await apflow.getTask(ROOT_ID)) {
    say({ event: "resumed" });
  } else {
    await apflow.createTree(crashTree(), { execute: true });
    say({ event: "created" });
  }
  const tasks = await apflow.waitForTree(ROOT_ID);
  say({ event: "finished", tasks: tasks.map((t) => ({ id: t.id, status: t.status, attempt: t.attempt })) });
  await apflow.close();
  say({ event: "closed" });
  process.exit(0);
}

function open(): Promise<Apflow> {
  return createApflow({
    // An explicit undefined databaseUrl means embedded PGlite whatever the environment says.
    databaseUrl: config.databaseUrl,
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    ...(config.nodeId ? { nodeId: config.nodeId } : {}),
    ...(config.leaseMs ? { leaseMs: config.leaseMs } : {}),
    ...(config.leaderLeaseMs ? { leaderLeaseMs: config.leaderLeaseMs } : {}),
    ...(config.shutdownGraceMs !== undefined ? { shutdownGraceMs: config.shutdownGraceMs } : {}),
    maxParallelTasks: config.maxParallelTasks ?? 8,
    logLevel: "warn",
    executors: [slowAppend],
  });
}

main().catch((error: unknown) => {
  say({
    event: shuttingDown ? "error-while-closing" : "error",
    code: isApflowError(error) ? error.code : null,
    message: errorMessage(error),
    details: isApflowError(error) ? (error.details ?? null) : null,
  });
  // An operation cut short by close() is no failure: the signal handler exits.
  if (!shuttingDown) process.exit(1);
});
