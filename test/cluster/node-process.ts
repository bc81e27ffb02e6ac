/**
 * One cluster node as its own process, configured the way a deployed node is: from
 * the APFLOW_* environment (loadConfig), with the GraphQL server on a free port.
 *
 *   node --import tsx test/cluster/node-process.ts [workLog]
 *
 * Besides the built-in executors it has `work`, which appends
 * `<taskId> start <nodeId> <epochMs> <attempt>` to the work log when it starts and
 * `<taskId> end <nodeId> <epochMs> <attempt>` when it finishes (or `abort` instead
 * of `end` when its signal aborts), with appendFileSync, so every line is on disk
 * the moment it is written and survives a SIGKILL. In between it sleeps
 * `inputs.ms`, or a random time in TEST_WORK_MS ("min-max" or "ms"), honouring
 * ctx.signal; `inputs.fail` makes it throw instead of finishing.
 *
 * The work log is argv[2] or TEST_WORK_LOG. stdout carries one JSON line,
 * `{ "ready": true, "url", "wsUrl", "nodeId", "pid" }`, once the node runs and its
 * API listens; SIGTERM (or SIGINT) closes the server and the node cleanly, prints
 * `{ "closed": true }` and exits 0.
 */
import { appendFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type Apflow, createApflow } from "../../src/apflow.js";
import { loadConfig } from "../../src/config/index.js";
import { errorMessage } from "../../src/core/errors.js";
import { defineExecutor } from "../../src/core/executor.js";
import { buildApp } from "../../src/server/app.js";

const workLog = process.argv[2] ?? process.env.TEST_WORK_LOG;
const [minMs, maxMs] = parseRange(process.env.TEST_WORK_MS ?? "20-50");

function parseRange(text: string): [number, number] {
  const [low, high] = text.split("-").map(Number);
  const min = Number.isFinite(low) ? (low as number) : 20;
  return [min, Number.isFinite(high) ? (high as number) : min];
}

function say(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

// The test runner may die without killing its children: do not outlive it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(2);
}, 1_000).unref();

const config = loadConfig();
// Known before createApflow returns (the engine may claim work while it starts).
let nodeId = config.nodeId ?? "?";

function line(text: string): void {
  if (workLog) appendFileSync(workLog, `${text}\n`);
}

const work = defineExecutor({
  id: "work",
  description: "Logs its start, sleeps (abortably), logs its end.",
  inputSchema: { type: "object" },
  async execute(inputs, ctx) {
    const { id, attempt } = ctx.task;
    line(`${id} start ${nodeId} ${Date.now()} ${attempt}`);
    const ms = typeof inputs.ms === "number" ? inputs.ms : minMs + Math.floor(Math.random() * (maxMs - minMs + 1));
    try {
      await sleep(ms, undefined, { signal: ctx.signal });
    } catch (error) {
      line(`${id} abort ${nodeId} ${Date.now()} ${attempt}`);
      throw error;
    }
    if (inputs.fail === true) {
      line(`${id} fail ${nodeId} ${Date.now()} ${attempt}`);
      throw new Error("failing as asked");
    }
    line(`${id} end ${nodeId} ${Date.now()} ${attempt}`);
    return { node: nodeId, sleptMs: ms };
  },
});

/** A port free right now (the node registers its API URL before the server listens). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function main(): Promise<void> {
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const apflow: Apflow = await createApflow({
    ...config,
    apiUrl: `http://${config.host}:${port}/graphql`,
    executors: [work],
  });
  nodeId = apflow.nodeId;
  const app = buildApp({ apflow, port, host: config.host });
  let closing = false;
  const close = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    apflow.logger.info("closing", { signal });
    app
      .stop()
      .then(() => apflow.close())
      .then(
        () => {
          say({ closed: true });
          process.exit(0);
        },
        (error: unknown) => {
          say({ error: errorMessage(error), phase: "close" });
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", close);
  process.once("SIGINT", close);
  try {
    const url = await app.start();
    say({ ready: true, url, wsUrl: app.wsUrl, nodeId, pid: process.pid });
  } catch (error) {
    await apflow.close();
    throw error;
  }
}

main().catch((error: unknown) => {
  say({ error: errorMessage(error), phase: "start" });
  process.exit(1);
});
