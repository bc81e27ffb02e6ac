// SIGKILL in the middle of a run, with real child processes and real databases: the
// restarted node (or another node, once the leases expire) finishes the tree, no
// committed work is lost, and only work that was in flight at the kill runs twice.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LOCK_FILE_NAME } from "../../src/storage/data-dir-lock.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import {
  eventsOf,
  idsWhere,
  killWorkers,
  midRun,
  readLog,
  readState,
  sorted,
  startWorker,
  type Target,
  type TaskLog,
  waitForLog,
  waitForNoSessions,
} from "./support.js";
import { TASK_IDS } from "./tree.js";
import type { WorkerConfig } from "./worker.js";

let dir: string;
let database: TestDatabase | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-crash-"));
});

afterEach(async () => {
  await killWorkers();
  await database?.drop();
  database = undefined;
  await rm(dir, { recursive: true, force: true });
});

type NodeSettings = Pick<WorkerConfig, "nodeId" | "leaseMs" | "leaderLeaseMs">;

interface Scenario {
  target: Target;
  first: NodeSettings;
  second: NodeSettings;
  /** How the killed node's leases come back: its restart releases them, or they expire. */
  recovery: "restart" | "expiry";
}

async function killMidRunAndRecover({ target, first, second, recovery }: Scenario): Promise<void> {
  const log1 = path.join(dir, "run1.log");
  const log2 = path.join(dir, "run2.log");
  const started = Date.now();

  // Run 1: create the tree, let it get going, kill the process without warning.
  const w1 = startWorker({ ...target, ...first, log: log1 });
  const ready1 = await w1.waitFor("ready");
  await w1.waitFor("created");
  await waitForLog(log1, midRun, w1);
  w1.child.kill("SIGKILL");
  const exit1 = await w1.waitForExit();
  expect(exit1.signal).toBe("SIGKILL");
  const killedAt = Date.now();

  if (target.databaseUrl) {
    // Everything the dead child had sent is committed or rolled back once its sessions are gone.
    await waitForNoSessions(target.databaseUrl);
  } else {
    // The killed process could not remove its lock: it is left behind, naming the dead pid.
    const lock = JSON.parse(await readFile(path.join(target.dataDir!, LOCK_FILE_NAME), "utf8")) as { pid: number };
    expect(lock.pid).toBe(w1.pid);
  }

  // What run 1 did (its log is final: the process is dead) and what it committed.
  const run1 = readLog(log1);
  const atKill = await readState(target);
  if (target.dataDir) {
    // The data directory reopens: the stale lock is replaced, PGlite recovers, and
    // the lock is released again on close.
    expect(atKill.warnings.join("\n")).toMatch(new RegExp(`stale lock .*process ${w1.pid} `));
    expect(existsSync(path.join(target.dataDir, LOCK_FILE_NAME))).toBe(false);
  }
  expect(atKill.tasks.size).toBe(TASK_IDS.length);

  const started1 = idsWhere(run1, (e) => e.starts > 0);
  const ended1 = idsWhere(run1, (e) => e.ends > 0);
  const seenCommitted1 = idsWhere(run1, (e) => e.committed > 0);
  const completedAtKill = new Set([...atKill.tasks.values()].filter((t) => t.status === "completed").map((t) => t.id));
  // In flight at the kill: claimed and started, but no completion committed. This
  // includes tasks whose executor had finished (`end` logged) while their outcome
  // still waited in the engine's write-behind buffer.
  const inFlight = new Set([...started1].filter((id) => !completedAtKill.has(id)));
  const buffered = new Set([...inFlight].filter((id) => ended1.has(id)));

  // No task runs twice within one process.
  expect([...run1.values()].every((e) => e.starts <= 1 && e.ends <= e.starts)).toBe(true);
  // Durability: every completion the child saw committed is in the database after the kill...
  expect(sorted([...seenCommitted1].filter((id) => !completedAtKill.has(id)))).toEqual([]);
  // ...and nothing is completed that the executor had not finished.
  expect(sorted([...completedAtKill].filter((id) => !ended1.has(id)))).toEqual([]);
  expect(inFlight.size).toBeGreaterThan(0);
  expect(completedAtKill.size).toBeGreaterThan(0);
  // Tasks in flight are still leased to the dead node. So may be a task whose claim had
  // committed when the kill came before its executor could log `start` (a window of a
  // few instructions); every other task that never started is pending.
  const leasedAtKill = new Set([...atKill.tasks.values()].filter((t) => t.status === "in_progress").map((t) => t.id));
  const claimedNotStarted = new Set([...leasedAtKill].filter((id) => !started1.has(id)));
  expect(sorted([...inFlight].filter((id) => !leasedAtKill.has(id)))).toEqual([]);
  for (const id of leasedAtKill) {
    expect({ id, owner: atKill.tasks.get(id)!.leaseOwner }).toEqual({ id, owner: ready1.nodeId });
  }
  for (const id of TASK_IDS) {
    if (!started1.has(id) && !leasedAtKill.has(id)) {
      expect({ id, status: atKill.tasks.get(id)!.status }).toEqual({ id, status: "pending" });
    }
  }
  expect(claimedNotStarted.size).toBeLessThanOrEqual(8);
  // At most maxParallelTasks executors ran at once; the write-behind buffer can hold more finished ones.
  expect(inFlight.size - buffered.size).toBeLessThanOrEqual(8);

  // Run 2: same data directory / database; it finishes the tree.
  const w2 = startWorker({ ...target, ...second, log: log2 });
  const ready2 = await w2.waitFor("ready");
  const ready2At = Date.now();
  if (recovery === "restart") expect(ready2.nodeId).toBe(ready1.nodeId);
  else expect(ready2.nodeId).not.toBe(ready1.nodeId);
  await w2.waitFor("resumed");
  const finished = await w2.waitFor("finished", 90_000);
  const exit2 = await w2.waitForExit();
  expect(exit2.code).toBe(0);
  expect((finished.tasks as { status: string }[]).every((t) => t.status === "completed")).toBe(true);

  const run2 = readLog(log2);
  const final = await readState(target);
  expect(final.warnings).toEqual([]);
  if (target.dataDir) expect(existsSync(path.join(target.dataDir, LOCK_FILE_NAME))).toBe(false);

  // Nothing lost, nothing left running.
  expect(final.tasks.size).toBe(TASK_IDS.length);
  expect(final.openTasks).toBe(0);
  for (const task of final.tasks.values()) {
    expect({ id: task.id, status: task.status, owner: task.leaseOwner }).toEqual({
      id: task.id,
      status: "completed",
      owner: null,
    });
  }

  // Exactly the tasks in flight at the kill ran twice; nothing committed ran again.
  const starts = (id: string) => (run1.get(id)?.starts ?? 0) + (run2.get(id)?.starts ?? 0);
  const twice = TASK_IDS.filter((id) => starts(id) >= 2);
  expect(sorted(twice)).toEqual(sorted(inFlight));
  expect(TASK_IDS.filter((id) => starts(id) !== 1 && starts(id) !== 2)).toEqual([]);
  expect(sorted(idsWhere(run2, (e) => e.starts > 0))).toEqual(
    sorted(TASK_IDS.filter((id) => !completedAtKill.has(id))),
  );
  expect([...run2.values()].every((e) => e.starts === 1 && e.ends === 1)).toBe(true);
  // Attempts count claims: a task claimed but not started before the kill was claimed twice, run once.
  const attempts = (id: string) => starts(id) + (claimedNotStarted.has(id) ? 1 : 0);

  // The stored history agrees: one attempt per execution, one completion per task,
  // and each in-flight task was returned to the queue once, for the expected reason.
  for (const id of TASK_IDS) {
    const events = eventsOf(final.events, id);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    expect({
      id,
      attempt: final.tasks.get(id)!.attempt,
      started: count("started"),
      completed: count("completed"),
    }).toEqual({ id, attempt: attempts(id), started: attempts(id), completed: 1 });
    const returned = events.filter((e) => e.type === "lease_expired");
    expect({ id, returned: returned.length }).toEqual({ id, returned: leasedAtKill.has(id) ? 1 : 0 });
    for (const event of returned) {
      expect(event.message).toContain(recovery === "restart" ? "its node restarted" : "its lease expired");
    }
    if (recovery === "expiry" && leasedAtKill.has(id)) {
      // Fencing: no second claim before the dead node's lease ran out (both times from the database clock).
      const restarted = events.filter((e) => e.type === "started").at(-1)!;
      expect(restarted.at.getTime()).toBeGreaterThanOrEqual(atKill.tasks.get(id)!.leaseExpiresAt!.getTime());
    }
  }
  const requeued = final.events.filter((e) => e.type === "lease_expired").map((e) => e.at.getTime());
  const requeuedAfter = requeued.length > 0 ? Math.min(...requeued) - killedAt : "-";
  // The per-tree event sequence stayed gap-free across the crash.
  expect(final.events.map((e) => e.seq)).toEqual(final.events.map((_, i) => i + 1));

  console.info(
    `[crash] ${target.dataDir ? "pglite" : "postgres"}/${recovery}: killed after ${ended1.size} ends, ` +
      `${completedAtKill.size} committed, ${inFlight.size} in flight (${buffered.size} of them finished but unwritten), ` +
      `${claimedNotStarted.size} claimed but not started; ` +
      `restarted node ready ${ready2At - killedAt} ms after the kill, leases requeued after ${requeuedAfter} ms, ` +
      `tree finished after ${exit2.at - killedAt} ms; total ${Date.now() - started} ms`,
  );
}

describe("SIGKILL in the middle of a run", () => {
  test("embedded PGlite on disk: the restarted process finishes the tree", async () => {
    await killMidRunAndRecover({
      target: { dataDir: path.join(dir, "data") },
      first: {},
      second: {},
      recovery: "restart",
    });
  }, 120_000);

  test("PostgreSQL, restarted with the same node id: its leases are requeued at once", async () => {
    database = await createTestDatabase();
    await killMidRunAndRecover({
      target: { databaseUrl: database.url },
      first: { nodeId: "crash-node-a" },
      second: { nodeId: "crash-node-a" },
      recovery: "restart",
    });
  }, 120_000);

  test("PostgreSQL, another node takes over: the dead node's leases expire and are requeued", async () => {
    database = await createTestDatabase();
    await killMidRunAndRecover({
      target: { databaseUrl: database.url },
      // The dead node led the cluster: the survivor must first take over the leader
      // lease, then requeue the task leases that expired.
      first: { nodeId: "crash-node-a", leaseMs: 2_000, leaderLeaseMs: 3_000 },
      second: { nodeId: "crash-node-b", leaseMs: 2_000, leaderLeaseMs: 3_000 },
      recovery: "expiry",
    });
  }, 120_000);
});

describe("repeated SIGKILLs on one embedded data directory", () => {
  // The decision whether PGlite can stay the embedded default rests on this: kill the
  // process at different moments (while it creates the tree, right after a commit,
  // deep in the run), reopen each time, and check that nothing it had committed is
  // ever lost and that only in-flight work is repeated.
  test("every reopen sees all committed work; the last run finishes the tree", async () => {
    const dataDir = path.join(dir, "data");
    /** When to kill each run: as soon as it is ready (during createTree), or after it logged n more ends. */
    const killPoints: Array<"ready" | "committed" | number> = ["ready", 3, "committed", 20, 8];
    const runs: Map<string, TaskLog>[] = [];
    const inFlightPerKill: Set<string>[] = [];
    const claimedNotStartedPerKill: Set<string>[] = [];
    let completedBefore = new Set<string>();
    let nodeId: unknown;

    for (const [i, point] of killPoints.entries()) {
      const log = path.join(dir, `run${i}.log`);
      const worker = startWorker({ dataDir, log });
      const ready = await worker.waitFor("ready");
      nodeId ??= ready.nodeId;
      expect(ready.nodeId).toBe(nodeId);
      if (point === "committed") {
        // Right after a completion committed: the moment a lost write would show.
        await waitForLog(log, (l) => idsWhere(l, (e) => e.committed > 0).size > 0, worker);
      } else if (point !== "ready") {
        await waitForLog(log, (l) => idsWhere(l, (e) => e.ends > 0).size >= point, worker);
      }
      worker.child.kill("SIGKILL");
      expect((await worker.waitForExit()).signal).toBe("SIGKILL");

      const run = readLog(log);
      runs.push(run);
      const state = await readState({ dataDir });
      expect(state.warnings.join("\n")).toMatch(new RegExp(`stale lock .*process ${worker.pid} `));
      // The tree is created in one transaction: all of it or nothing.
      expect([0, TASK_IDS.length]).toContain(state.tasks.size);
      if (state.tasks.size === 0) expect(worker.messages.some((m) => m.event === "created")).toBe(false);

      const completed = new Set([...state.tasks.values()].filter((t) => t.status === "completed").map((t) => t.id));
      const endedSoFar = new Set(runs.flatMap((r) => [...idsWhere(r, (e) => e.ends > 0)]));
      // Nothing ever committed is lost: not what this run saw committed, not what earlier reopens saw.
      expect(sorted([...idsWhere(run, (e) => e.committed > 0)].filter((id) => !completed.has(id)))).toEqual([]);
      expect(sorted([...completedBefore].filter((id) => !completed.has(id)))).toEqual([]);
      expect(sorted([...completed].filter((id) => !endedSoFar.has(id)))).toEqual([]);
      // This run's uncommitted work is still leased to the node; besides it, at most a few
      // tasks claimed just before the kill and not yet started; everything else is pending.
      const inFlight = new Set([...idsWhere(run, (e) => e.starts > 0)].filter((id) => !completed.has(id)));
      inFlightPerKill.push(inFlight);
      const leased = [...state.tasks.values()].filter((t) => t.status === "in_progress");
      const claimedNotStarted = new Set(leased.filter((t) => !inFlight.has(t.id)).map((t) => t.id));
      claimedNotStartedPerKill.push(claimedNotStarted);
      expect(claimedNotStarted.size).toBeLessThanOrEqual(8);
      for (const task of state.tasks.values()) {
        const expected = completed.has(task.id)
          ? "completed"
          : inFlight.has(task.id) || claimedNotStarted.has(task.id)
            ? "in_progress"
            : "pending";
        expect({ id: task.id, status: task.status }).toEqual({ id: task.id, status: expected });
        if (expected === "in_progress")
          expect({ id: task.id, owner: task.leaseOwner }).toEqual({ id: task.id, owner: nodeId });
      }
      completedBefore = completed;
    }

    const log = path.join(dir, "last.log");
    const last = startWorker({ dataDir, log });
    await last.waitFor("finished", 90_000);
    expect((await last.waitForExit()).code).toBe(0);
    runs.push(readLog(log));
    const final = await readState({ dataDir });
    expect(final.warnings).toEqual([]);
    expect(final.openTasks).toBe(0);
    expect([...final.tasks.values()].filter((t) => t.status !== "completed")).toEqual([]);
    // Each task ran once, plus once more for every kill that caught it in flight; each
    // claim that a kill cut off before the executor started cost an attempt, not a run.
    for (const id of TASK_IDS) {
      const starts = runs.reduce((n, r) => n + (r.get(id)?.starts ?? 0), 0);
      const caught = inFlightPerKill.filter((s) => s.has(id)).length;
      const cutOff = claimedNotStartedPerKill.filter((s) => s.has(id)).length;
      expect({ id, starts, attempt: final.tasks.get(id)!.attempt }).toEqual({
        id,
        starts: 1 + caught,
        attempt: 1 + caught + cutOff,
      });
    }
    expect(final.events.map((e) => e.seq)).toEqual(final.events.map((_, i) => i + 1));
    console.info(
      `[crash] pglite, ${killPoints.length} kills: in flight per kill ${inFlightPerKill.map((s) => s.size).join(", ")}; ` +
        `claimed but not started per kill ${claimedNotStartedPerKill.map((s) => s.size).join(", ")}; ` +
        `${completedBefore.size} committed at the last kill`,
    );
  }, 300_000);
});
