// How long finished work waits in the engine's write-behind buffer. Whatever waits
// there when the process dies is executed again after the restart, so the buffer
// must be written while the queue still has work, not only once it runs dry.
//
// On embedded PGlite every query runs synchronously (WebAssembly) inside promise
// callbacks. The engine schedules its flush with setImmediate; while executors keep
// finishing (timers) and each finish triggers a claim that is CPU work in the same
// callback, Node's timers phase never empties and the check phase (setImmediate)
// never runs: no outcome is written until the queue is drained. PostgreSQL's network
// round trips yield to the event loop, so it is not affected.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type Apflow, createApflow } from "../../src/apflow.js";
import { defineExecutor } from "../../src/core/executor.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

const MAX_PARALLEL = 8;
const TASKS = 200;

let dir: string;
let database: TestDatabase | undefined;
let apflow: Apflow | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-write-behind-"));
});

afterEach(async () => {
  await apflow?.close();
  apflow = undefined;
  await database?.drop();
  database = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe.each(["pglite", "postgres"] as const)("write-behind on %s", (kind) => {
  test("finished tasks are written while the queue still has work (at most 2 x maxParallel wait)", async () => {
    let ended = 0;
    let committed = 0;
    let mostWaiting = 0;
    const quick = defineExecutor({
      id: "quick",
      description: "Sleeps 5 to 20 ms.",
      inputSchema: { type: "object" },
      async execute(_inputs, ctx) {
        await sleep(5 + Math.floor(Math.random() * 16), undefined, { signal: ctx.signal });
        ended++;
        mostWaiting = Math.max(mostWaiting, ended - committed);
        return null;
      },
    });
    if (kind === "postgres") database = await createTestDatabase();
    apflow = await createApflow({
      ...(database ? { databaseUrl: database.url } : { databaseUrl: undefined, dataDir: path.join(dir, "data") }),
      maxParallelTasks: MAX_PARALLEL,
      logLevel: "warn",
      executors: [quick],
    });
    apflow.subscribe("*", (event) => {
      if (event.type === "completed") committed++;
    });
    const specs = [
      { id: "wb-root", name: "wb-root", executor: "quick", parentId: null },
      ...Array.from({ length: TASKS - 1 }, (_, i) => ({
        id: `wb-${i}`,
        name: `wb-${i}`,
        executor: "quick",
        parentId: "wb-root",
      })),
    ];
    await apflow.createTree(specs, { execute: true });
    const tasks = await apflow.waitForTree("wb-root");
    expect(tasks.filter((t) => t.status === "completed")).toHaveLength(TASKS);
    // During one claim and one flush at most maxParallel executors can finish each.
    expect(mostWaiting, `up to ${mostWaiting} of ${TASKS} finished tasks waited unwritten`).toBeLessThanOrEqual(
      2 * MAX_PARALLEL,
    );
  }, 120_000);
});
