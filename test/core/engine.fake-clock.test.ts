/**
 * The scheduler's timing on the in-memory store with a clock driven by hand:
 * backoff between attempts, timeouts, and that nothing happens early.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, settle } from "../../src/core/clock.js";
import { Engine } from "../../src/core/engine.js";
import { ErrorCode } from "../../src/core/errors.js";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import { TaskService } from "../../src/core/task-service.js";
import { MemoryTaskStore } from "../../src/storage/memory-store.js";
import { newProbe, testExecutors } from "../support/test-executors.js";

describe("engine timing with a fake clock", () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.stop(0);
  });

  async function setup() {
    const clock = new FakeClock();
    const store = new MemoryTaskStore(clock);
    const bus = new LocalEventBus();
    const probe = newProbe();
    const registry = new ExecutorRegistry(testExecutors(probe));
    engine = new Engine({
      store,
      executors: registry,
      bus,
      clock,
      nodeId: "fake",
      pollIntervalMs: 60_000,
      retry: { baseDelayMs: 1_000, maxDelayMs: 8_000 },
      // random() = 0: each delay is exactly half its exponential step.
      random: () => 0,
    });
    const service = new TaskService(store, registry, bus, engine);
    await engine.start();
    return { clock, store, probe, service };
  }

  it("waits the exponential backoff between attempts, not a moment less", async () => {
    const { clock, probe, service } = await setup();
    const root = await service.createTree(
      [{ name: "flaky", executor: "flaky", maxAttempts: 4, inputs: { succeedOn: 4 } }],
      { execute: true },
    );
    await clock.advance(0);
    expect(probe.started).toEqual(["flaky"]);
    // Attempt 1 failed: the next is due after 1000/2 = 500 ms.
    await clock.advance(499);
    expect(probe.started).toHaveLength(1);
    await clock.advance(1);
    expect(probe.started).toHaveLength(2);
    // Attempt 2 failed: 2000/2 = 1000 ms.
    await clock.advance(999);
    expect(probe.started).toHaveLength(2);
    await clock.advance(1);
    expect(probe.started).toHaveLength(3);
    // Attempt 3 failed: 4000/2 = 2000 ms; attempt 4 succeeds.
    await clock.advance(2_000);
    await settle();
    const task = await service.requireTask(root.id);
    expect(task).toMatchObject({ status: "completed", attempt: 4 });
  });

  it("fails a task at its timeout exactly, and aborts the executor", async () => {
    const { clock, probe, service } = await setup();
    const root = await service.createTree([{ name: "slow", executor: "sleep", timeoutMs: 5_000 }], { execute: true });
    await clock.advance(4_999);
    expect((await service.requireTask(root.id)).status).toBe("in_progress");
    await clock.advance(1);
    await settle();
    expect(await service.requireTask(root.id)).toMatchObject({ status: "failed", errorCode: ErrorCode.TIMEOUT });
    expect(probe.aborted.get("slow")).toBe(ErrorCode.TIMEOUT);
  });
});
