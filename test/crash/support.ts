/**
 * Helpers of the crash tests: start worker children (./worker.ts), read their
 * executor logs, and read a database's committed state from the test process.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createApflow } from "../../src/apflow.js";
import type { Logger } from "../../src/core/executor.js";
import type { Task, TaskEvent } from "../../src/core/types.js";
import { captureOutput, childEnv, type Exit, exitOf, spawnTsx } from "../support/processes.js";
import { ROOT_ID } from "./tree.js";
import type { WorkerConfig } from "./worker.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const workerScript = path.join(here, "worker.ts");
const packageRoot = path.resolve(here, "..", "..");

export interface WorkerMessage {
  event: string;
  [key: string]: unknown;
}

export interface Worker {
  child: ChildProcess;
  pid: number;
  messages: WorkerMessage[];
  /** stdout and stderr as received, for failure messages. */
  output(): string;
  /** Resolves with the first message of this kind (already received or future). */
  waitFor(event: string, ms?: number): Promise<WorkerMessage>;
  exited: Promise<Exit>;
  /** Resolves with the exit, or rejects after `ms`. */
  waitForExit(ms?: number): Promise<Exit>;
}

const running = new Set<Worker>();

/**
 * Starts `node --import tsx worker.ts <config>`. `cwd` is where a relative data dir
 * (the default `./.apflow`) resolves.
 */
export function startWorker(config: WorkerConfig, options: { cwd?: string } = {}): Worker {
  const child = spawnTsx(workerScript, [JSON.stringify(config)], {
    cwd: options.cwd ?? packageRoot,
    env: childEnv(),
  });
  const messages: WorkerMessage[] = [];
  const listeners = new Set<() => void>();
  const output = captureOutput(child, (message) => {
    messages.push(message as WorkerMessage);
    for (const listener of listeners) listener();
  });
  const exited = exitOf(child);
  const worker: Worker = {
    child,
    pid: child.pid,
    messages,
    output,
    waitFor(event, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find((m) => m.event === event);
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`worker ${child.pid}: no "${event}" within ${ms} ms. Output:\n${output().slice(-4000)}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((exit) => {
          // Let the last stdout chunk arrive before giving up.
          setTimeout(() => {
            check();
            if (listeners.has(check)) {
              done();
              reject(
                new Error(
                  `worker ${child.pid} exited (${exit.code ?? exit.signal}) before "${event}". Output:\n${output().slice(-4000)}`,
                ),
              );
            }
          }, 50);
        });
        check();
      });
    },
    exited,
    waitForExit(ms = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`worker ${child.pid} still running after ${ms} ms. Output:\n${output().slice(-4000)}`)),
          ms,
        );
        void exited.then((exit) => {
          clearTimeout(timer);
          resolve(exit);
        });
      });
    },
  };
  running.add(worker);
  void exited.then(() => running.delete(worker));
  return worker;
}

/** SIGKILLs every worker still running (afterEach). */
export async function killWorkers(): Promise<void> {
  const left = [...running];
  for (const worker of left) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGKILL");
  }
  await Promise.all(left.map((w) => w.exited));
}

/** What one executor log says about each task. */
export interface TaskLog {
  starts: number;
  ends: number;
  committed: number;
}

export function readLog(file: string): Map<string, TaskLog> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw error;
  }
  const tasks = new Map<string, TaskLog>();
  for (const line of text.split("\n")) {
    // A line cut short by a kill has no known kind and is ignored (appendFileSync of one short line is one write).
    const [id, kind] = line.split(" ");
    if (!id || (kind !== "start" && kind !== "end" && kind !== "committed")) continue;
    const entry = tasks.get(id) ?? { starts: 0, ends: 0, committed: 0 };
    if (kind === "start") entry.starts++;
    else if (kind === "end") entry.ends++;
    else entry.committed++;
    tasks.set(id, entry);
  }
  return tasks;
}

export function idsWhere(log: Map<string, TaskLog>, test: (entry: TaskLog) => boolean): Set<string> {
  return new Set([...log].filter(([, entry]) => test(entry)).map(([id]) => id));
}

/** Polls the log until `check` holds; returns the log it held on. */
export async function waitForLog(
  file: string,
  check: (log: Map<string, TaskLog>) => boolean,
  worker: Worker,
  ms = 90_000,
): Promise<Map<string, TaskLog>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const log = readLog(file);
    if (check(log)) return log;
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) {
      throw new Error(`worker ${worker.pid} exited before the log condition held. Output:\n${worker.output()}`);
    }
    // Nothing in these runs should log an error (claims or writes failing): fail now, not at the timeout.
    if (worker.output().includes('"level":"error"')) {
      throw new Error(`worker ${worker.pid} logged an error. Output:\n${worker.output().slice(-4000)}`);
    }
    if (Date.now() > deadline) throw new Error(`log condition not met within ${ms} ms. Output:\n${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The running phase the tests interrupt: tasks finished and completions committed,
 * executors running, most of the tree still to do.
 */
export function midRun(log: Map<string, TaskLog>): boolean {
  const ended = idsWhere(log, (e) => e.ends > 0).size;
  const committed = idsWhere(log, (e) => e.committed > 0).size;
  const running = idsWhere(log, (e) => e.starts > e.ends).size;
  return ended >= 30 && committed >= 10 && running > 0;
}

export interface Target {
  dataDir?: string;
  databaseUrl?: string;
}

export interface StoredState {
  tasks: Map<string, Task>;
  events: TaskEvent[];
  openTasks: number;
  /** Warnings logged while opening (e.g. a stale data-dir lock being replaced). */
  warnings: string[];
}

/** A logger that keeps warnings and errors. */
function capturingLogger(into: string[]): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message) => into.push(message),
    error: (message) => into.push(message),
    child: () => logger,
  };
  return logger;
}

/** Opens the database with a fresh createApflow that runs nothing, and reads the crash tree. */
export async function readState(target: Target): Promise<StoredState> {
  const warnings: string[] = [];
  const apflow = await createApflow({
    databaseUrl: target.databaseUrl,
    ...(target.dataDir ? { dataDir: target.dataDir } : {}),
    runTasks: false,
    logger: capturingLogger(warnings),
  });
  try {
    const tasks = await apflow.tasks.listTasks({ treeId: ROOT_ID });
    const events = await apflow.events(ROOT_ID, 0, 100_000);
    const [row] = await apflow.database.sql.query<{ open_tasks: number }>(
      "SELECT open_tasks FROM task_trees WHERE id = $1",
      [ROOT_ID],
    );
    return {
      tasks: new Map(tasks.map((t) => [t.id, t])),
      events,
      openTasks: Number(row?.open_tasks ?? -1),
      warnings,
    };
  } finally {
    await apflow.close();
  }
}

/**
 * Waits until no other session is connected to the database: the server has then
 * finished (committed or rolled back) everything a killed child had sent, so what
 * is read next is exactly what was committed.
 */
export async function waitForNoSessions(databaseUrl: string, ms = 30_000): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + ms;
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      );
      if (Number(rows[0]?.n) === 0) return;
      if (Date.now() > deadline) throw new Error(`sessions of a killed worker still open after ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
}

/** Events of one task, in order. */
export function eventsOf(events: readonly TaskEvent[], taskId: string): TaskEvent[] {
  return events.filter((e) => e.taskId === taskId);
}

export const sorted = (ids: Iterable<string>) => [...ids].sort();
