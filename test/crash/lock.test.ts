// The embedded data directory belongs to one process: a second node on it fails at
// once with DATA_DIR_LOCKED naming the holder, and leaves the holder undisturbed;
// once the holder is killed, the next process replaces the stale lock and resumes.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ErrorCode } from "../../src/core/errors.js";
import { LOCK_FILE_NAME } from "../../src/storage/data-dir-lock.js";
import { killWorkers, midRun, readState, startWorker, waitForLog } from "./support.js";
import { TASK_IDS } from "./tree.js";

let dir: string;
let dataDir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-crash-lock-"));
  dataDir = path.join(dir, "data");
});

afterEach(async () => {
  await killWorkers();
  await rm(dir, { recursive: true, force: true });
});

const lockHolder = async () =>
  (JSON.parse(await readFile(path.join(dataDir, LOCK_FILE_NAME), "utf8")) as { pid: number }).pid;

describe("two processes on one embedded data directory", () => {
  test("the second fails fast with DATA_DIR_LOCKED naming the first's pid; the first runs on", async () => {
    const log1 = path.join(dir, "run1.log");
    const first = startWorker({ dataDir, log: log1 });
    await first.waitFor("created");
    await waitForLog(log1, midRun, first);

    const spawnedAt = Date.now();
    const second = startWorker({ dataDir, log: path.join(dir, "run2.log") });
    const failure = await second.waitFor("error");
    const exit = await second.waitForExit();
    expect(exit.code).toBe(1);
    expect(failure.code).toBe(ErrorCode.DATA_DIR_LOCKED);
    expect(failure.message).toContain(`in use by process ${first.pid} on this host`);
    expect(failure.message).toContain(`stop process ${first.pid}`);
    expect((failure.details as { holder: { pid: number } }).holder.pid).toBe(first.pid);
    // The refused process never got as far as the engine.
    expect(second.messages.map((m) => m.event)).toEqual(["error"]);

    // The holder keeps its lock and finishes the tree.
    expect(await lockHolder()).toBe(first.pid);
    await first.waitFor("finished", 90_000);
    expect((await first.waitForExit()).code).toBe(0);
    const final = await readState({ dataDir });
    expect([...final.tasks.values()].filter((t) => t.status === "completed")).toHaveLength(TASK_IDS.length);
    console.info(`[lock] the second process was refused ${exit.at - spawnedAt} ms after it was spawned`);
  }, 120_000);

  test("after the holder is SIGKILLed, the next process replaces the stale lock and resumes", async () => {
    const log1 = path.join(dir, "run1.log");
    const first = startWorker({ dataDir, log: log1 });
    await first.waitFor("created");
    await waitForLog(log1, midRun, first);
    first.child.kill("SIGKILL");
    await first.waitForExit();
    expect(await lockHolder()).toBe(first.pid);

    const next = startWorker({ dataDir, log: path.join(dir, "run2.log") });
    await next.waitFor("resumed");
    expect(await lockHolder()).toBe(next.pid);
    expect(next.output()).toContain(`Replacing the stale lock of ${dataDir}: process ${first.pid}`);
    await next.waitFor("finished", 90_000);
    expect((await next.waitForExit()).code).toBe(0);
  }, 120_000);
});
