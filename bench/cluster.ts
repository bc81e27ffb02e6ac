/**
 * `npm run bench:cluster`: apflow (1 and 2 nodes, each node its own process) against
 * graphile-worker (default and batched) and pg-boss, side by side on the same
 * PostgreSQL server (bench/postgres.ts), a fresh database per system per run, the
 * same no-op work and matched concurrency. Each figure is jobs per second from the
 * moment the first job is submitted (the workers already idle and listening) until
 * the database says every job is done.
 *
 * Settings (environment):
 *   BENCH_JOBS=10000        jobs per run
 *   BENCH_TREE_SIZE=1000    apflow tasks per tree (the others insert jobs 1,000 at a time);
 *                           BENCH_TREE_SIZE=10000 submits one tree of every job
 *   BENCH_RUNS=1            runs per system (median reported)
 *   BENCH_CONCURRENCY=100   jobs in flight per apflow node / graphile-worker runner
 *   BENCH_PGBOSS_WORKERS=4  pg-boss workers (each fetches batches of 100)
 *   BENCH_ONLY=apflow-1,pg-boss,...   a subset of the systems
 *   BENCH_DATABASE_URL      PostgreSQL server to use (see bench/postgres.ts)
 *   BENCH_NODE_FLAGS        extra Node.js flags for each apflow node process, e.g.
 *                           "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the nodes
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger, makeWorkerUtils, run as runGraphile } from "graphile-worker";
import pg from "pg";
import PgBoss from "pg-boss";
import { createApflow, type TaskSpec } from "../src/index.js";
import { type PostgresServer, selectPostgres } from "./postgres.js";

const POLL_MS = 50;
/** A run that completes no job for this long fails instead of hanging. */
const STALL_MS = 60_000;
const INSERT_BATCH = 1_000;

function int(name: string, fallback: number, min: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}`);
  return value;
}

const JOBS = int("BENCH_JOBS", 10_000, 2);
const TREE_SIZE = int("BENCH_TREE_SIZE", INSERT_BATCH, 1);
const RUNS = int("BENCH_RUNS", 1, 1);
const CONCURRENCY = int("BENCH_CONCURRENCY", 100, 1);
const PGBOSS_WORKERS = int("BENCH_PGBOSS_WORKERS", 4, 1);
const PGBOSS_BATCH = 100;

interface Run {
  ms: number;
  /** Of `ms`, the time the submitting call took (the rest is running the jobs). */
  submitMs: number;
  jobsPerSec: number;
}

interface System {
  id: string;
  label: string;
  /** What the system does per job, printed with the figures. */
  perJob: string;
  /** Starts idle workers on `url`, returns how to submit the jobs, count done ones, and stop. */
  setup(url: string): Promise<Workers>;
}

interface Workers {
  submit(): Promise<void>;
  /** Jobs done so far; polled every POLL_MS once submit() returned, so it must be cheap. */
  done(db: pg.Client): Promise<number>;
  /** After the timing: throws unless every job succeeded (when `done` cannot tell). */
  check?(db: pg.Client): Promise<void>;
  stop(): Promise<void>;
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const count = async (db: pg.Client, text: string, values: unknown[] = []) =>
  Number((await db.query<{ n: string }>(text, values)).rows[0]?.n ?? 0);

/* ---------------------------------------------------------------- apflow */

function spawnNode(url: string, nodeId: string): Promise<ChildProcess> {
  const flags = process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [...flags, "--import", "tsx", path.join(import.meta.dirname, "cluster-node.ts")],
    {
      env: {
        ...process.env,
        BENCH_NODE_DATABASE_URL: url,
        BENCH_NODE_ID: nodeId,
        BENCH_CONCURRENCY: String(CONCURRENCY),
        BENCH_POLL_MS: String(POLL_MS),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${nodeId} did not start within 60 s`));
    }, 60_000);
    lines.on("line", (line) => {
      if (line.includes('"ready":true')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${nodeId} exited with ${code} before it was ready`));
    });
  });
}

async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

function apflowSystem(nodes: number): System {
  return {
    id: `apflow-${nodes}`,
    label: `apflow, ${nodes} node${nodes > 1 ? "s" : ""} (process each)`,
    perJob:
      `a task row in a tree of ${TREE_SIZE.toLocaleString("en-US")} (parent link; on completion, dependents ` +
      "and parent are checked), claimed in " +
      "batches under a lease (node id + expiry, renewed periodically), 3 events (created/started/completed) " +
      "stored in task_events and published on the bus; other nodes hear of them by one NOTIFY per transaction",
    async setup(url) {
      // The parent runs no tasks: it migrates the database and creates the work.
      const parent = await createApflow({
        databaseUrl: url,
        runTasks: false,
        logLevel: "silent",
        nodeId: "bench-parent",
      });
      const children: ChildProcess[] = [];
      try {
        for (let i = 1; i <= nodes; i++) children.push(await spawnNode(url, `bench-node-${i}`));
      } catch (error) {
        await Promise.all(children.map(stopNode));
        await parent.close();
        throw error;
      }
      return {
        async submit() {
          // Trees of TREE_SIZE tasks (a root and its children), one after another, as
          // the other systems insert batches of INSERT_BATCH jobs: each tree is one
          // transaction, and nodes start on it while the next is inserted.
          for (let i = 0; i < JOBS; i += TREE_SIZE) {
            const size = Math.min(TREE_SIZE, JOBS - i);
            const tasks: TaskSpec[] = [{ name: "batch", executor: "noop" }];
            for (let j = 1; j < size; j++) tasks.push({ name: `task-${i + j}`, executor: "noop", parentId: "batch" });
            await parent.createTree(tasks, { execute: true });
          }
        },
        // Every tree exists once submit() returned: what is not open is done. Counting
        // completed rows instead cost about 6 ms of the server's CPU per poll.
        done: async (db) => JOBS - (await count(db, "SELECT coalesce(sum(open_tasks), 0) AS n FROM task_trees")),
        async check(db) {
          const completed = await count(db, "SELECT count(*) AS n FROM tasks WHERE status = 'completed'");
          if (completed !== JOBS) throw new Error(`apflow: ${completed} of ${JOBS} tasks completed`);
        },
        async stop() {
          await Promise.all(children.map(stopNode));
          await parent.close();
        },
      };
    },
  };
}

/* ------------------------------------------------------- graphile-worker */

const silentLogger = new Logger(() => () => {});

function graphileSystem(batched: boolean): System {
  const tuning = { localQueue: { size: 500 }, completeJobBatchDelay: 5, failJobBatchDelay: 5 };
  return {
    id: batched ? "graphile-worker-batched" : "graphile-worker",
    label: batched
      ? "graphile-worker, batched (localQueue.size 500, complete/failJobBatchDelay 5 ms)"
      : "graphile-worker, default settings",
    perJob: batched
      ? "a job row; the pool locks up to 500 jobs per fetch and deletes completed jobs in batches; " +
        "NOTIFY on insert (no per-job events, no dependencies)"
      : "a job row locked by one get_job call and deleted by one complete_job call; NOTIFY on insert " +
        "(no per-job events, no dependencies)",
    async setup(url) {
      // Our own pool (graphile-worker's default size, 10), ended after the runner stops.
      const pool = new pg.Pool({ connectionString: url, max: 10 });
      // DROP DATABASE ... FORCE ends idle connections: not an error here.
      pool.on("error", () => undefined);
      pool.on("connect", (client) => client.on("error", () => undefined));
      const utils = await makeWorkerUtils({ pgPool: pool, logger: silentLogger });
      await utils.migrate();
      const runner = await runGraphile({
        pgPool: pool,
        concurrency: CONCURRENCY,
        noHandleSignals: true,
        logger: silentLogger,
        taskList: { noop: async () => {} },
        ...(batched ? { preset: { worker: tuning } } : {}),
      });
      return {
        async submit() {
          for (let i = 0; i < JOBS; i += INSERT_BATCH) {
            const size = Math.min(INSERT_BATCH, JOBS - i);
            await utils.addJobs(Array.from({ length: size }, () => ({ identifier: "noop", payload: {} })));
          }
        },
        // Completed jobs are deleted.
        done: async (db) => JOBS - (await count(db, "SELECT count(*) AS n FROM graphile_worker._private_jobs")),
        async stop() {
          await runner.stop();
          await utils.release();
          await pool.end();
        },
      };
    },
  };
}

/* ---------------------------------------------------------------- pg-boss */

const pgBossSystem: System = {
  id: "pg-boss",
  label: `pg-boss (${PGBOSS_WORKERS} workers x batchSize ${PGBOSS_BATCH}, pollingIntervalSeconds 0.5)`,
  perJob:
    "a job row in pgboss.job, fetched in batches of 100 (SKIP LOCKED) and completed per batch (state update, " +
    "row kept); no LISTEN/NOTIFY, each worker waits the polling interval between fetches",
  async setup(url) {
    const boss = new PgBoss({ connectionString: url });
    boss.on("error", (error: Error) => log(`pg-boss: ${error.message}`));
    await boss.start();
    await boss.createQueue("noop");
    for (let i = 0; i < PGBOSS_WORKERS; i++) {
      // 0.5 s is pg-boss's minimum polling interval (its default is 2 s).
      await boss.work("noop", { batchSize: PGBOSS_BATCH, pollingIntervalSeconds: 0.5 }, async () => {});
    }
    return {
      async submit() {
        for (let i = 0; i < JOBS; i += INSERT_BATCH) {
          const size = Math.min(INSERT_BATCH, JOBS - i);
          await boss.insert(Array.from({ length: size }, () => ({ name: "noop", data: {} })));
        }
      },
      done: (db) => count(db, "SELECT count(*) AS n FROM pgboss.job WHERE name = 'noop' AND state = 'completed'"),
      stop: () => boss.stop({ graceful: true, wait: true, timeout: 10_000 }),
    };
  },
};

/* ------------------------------------------------------------ measuring */

async function runOnce(system: System, server: PostgresServer): Promise<Run> {
  const database = await server.freshDatabase();
  try {
    const workers = await system.setup(database.url);
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const started = performance.now();
      await workers.submit();
      const submitMs = performance.now() - started;
      let done = 0;
      let lastProgress = performance.now();
      for (;;) {
        const now = await workers.done(db);
        if (now >= JOBS) break;
        if (now > done) {
          done = now;
          lastProgress = performance.now();
        } else if (performance.now() - lastProgress > STALL_MS) {
          throw new Error(`${system.id}: no job finished for ${STALL_MS / 1000} s (${done} of ${JOBS} done)`);
        }
        await sleep(POLL_MS);
      }
      const ms = performance.now() - started;
      await workers.check?.(db);
      return { ms, submitMs, jobsPerSec: (JOBS / ms) * 1000 };
    } finally {
      await db.end();
      await workers.stop();
    }
  } finally {
    await database.drop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const all: System[] = [apflowSystem(1), apflowSystem(2), graphileSystem(false), graphileSystem(true), pgBossSystem];
  const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
  const systems = only ? all.filter((s) => only.includes(s.id)) : all;
  if (systems.length === 0) throw new Error(`BENCH_ONLY matched nothing; known: ${all.map((s) => s.id)}`);

  const server = await selectPostgres();
  const results: { system: System; runs: Run[] }[] = [];
  try {
    log(`PostgreSQL ${server.version} from ${server.source}; ${JSON.stringify(server.settings)}`);
    for (const system of systems) {
      const runs: Run[] = [];
      for (let i = 1; i <= RUNS; i++) {
        log(`${system.id}: run ${i} of ${RUNS} (${JOBS} jobs)`);
        const result = await runOnce(system, server);
        log(
          `  ${result.jobsPerSec.toFixed(0)} jobs/s (${(result.ms / 1000).toFixed(2)} s, ` +
            `of which submitting ${(result.submitMs / 1000).toFixed(2)} s)`,
        );
        runs.push(result);
      }
      results.push({ system, runs });
    }
  } finally {
    await server.stop();
  }

  const baseline = results.find((r) => r.system.id === "graphile-worker");
  const baseRate = baseline ? median(baseline.runs.map((r) => r.jobsPerSec)) : null;
  const rows = results.map(({ system, runs }) => {
    const rate = median(runs.map((r) => r.jobsPerSec));
    return {
      id: system.id,
      label: system.label,
      perJob: system.perJob,
      jobsPerSec: rate,
      totalMs: median(runs.map((r) => r.ms)),
      ratioToGraphileDefault: baseRate ? rate / baseRate : null,
      runs,
    };
  });

  const lines = [
    `## Cluster benchmark: ${JOBS.toLocaleString("en-US")} no-op jobs, concurrency ${CONCURRENCY}, ` +
      `${RUNS} run${RUNS > 1 ? "s" : ""} (median)`,
    "",
    `PostgreSQL ${server.version} (${server.source}); ${cpus().length} × ${cpus()[0]?.model ?? "?"}; Node ${process.version}`,
    "",
    "| system | jobs/s | total | × graphile-worker default |",
    "|---|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.jobsPerSec.toFixed(0)} | ${(r.totalMs / 1000).toFixed(2)} s | ` +
        `${r.ratioToGraphileDefault === null ? "–" : `${r.ratioToGraphileDefault.toFixed(2)}×`} |`,
    ),
    "",
    "Timed from the first job submitted (workers already running and idle) until the database counts every job done.",
    "What each system does per job:",
    ...rows.map((r) => `- **${r.id}**: ${r.perJob}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  const dir = path.join(import.meta.dirname, "results");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, "cluster-latest.json");
  await writeFile(
    file,
    `${JSON.stringify(
      {
        startedAt: new Date().toISOString(),
        machine: { cpu: cpus()[0]?.model ?? "?", cores: cpus().length, node: process.version },
        settings: {
          jobs: JOBS,
          runs: RUNS,
          concurrency: CONCURRENCY,
          treeSize: TREE_SIZE,
          pgBossWorkers: PGBOSS_WORKERS,
          pollMs: POLL_MS,
        },
        postgres: { source: server.source, version: server.version, settings: server.settings },
        results: rows,
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
