/** Execution and tree hooks: they run, may change inputs, and a failing one is recorded without stopping anything. */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { HookRegistry, type TreeMilestone } from "../../src/core/hooks.js";
import { silentLogger } from "../../src/core/logger.js";
import { runTreeHooks } from "../../src/core/tree-hooks.js";
import { MemoryTaskStore } from "../../src/storage/memory-store.js";
import { eventually, type Harness, startHarness } from "../support/harness.js";

describe("hooks", () => {
  let h: Harness;
  let stopTreeHooks = () => {};
  afterEach(async () => {
    stopTreeHooks();
    await h?.stop();
  });

  async function start(hooks: HookRegistry) {
    const store = new MemoryTaskStore(systemClock);
    h = await startHarness(store, { hooks });
    stopTreeHooks = runTreeHooks({
      bus: h.bus,
      store,
      hooks,
      logger: silentLogger,
      recordFailure: async (taskId, message) => h.bus.publish(await store.addEvent(taskId, "hook_failed", message)),
    });
  }

  it("run before and after executions, globally and per executor; before may replace inputs", async () => {
    const hooks = new HookRegistry();
    const calls: string[] = [];
    hooks.beforeExecute(({ task }) => void calls.push(`before:${task.name}`));
    hooks.beforeExecute(({ inputs }) => ({ ...inputs, added: true }), "echo");
    hooks.afterExecute(
      ({ task, result, error }) => void calls.push(`after:${task.name}:${error ? "error" : JSON.stringify(result)}`),
    );
    await start(hooks);
    const root = await h.service.createTree(
      [
        { name: "e", executor: "echo", inputs: { x: 1 }, dependencies: ["n"] },
        { name: "n", executor: "fail", parentId: "e", dependencies: [] },
      ],
      { execute: true },
    );
    await h.service.waitForTree(root.id);
    expect(calls).toEqual(["before:n", "after:n:error"]);
    const ok = await h.service.createTree([{ name: "e2", executor: "echo", inputs: { x: 1 } }], { execute: true });
    const [task] = await h.service.waitForTree(ok.id);
    expect(task!.result).toEqual({ x: 1, added: true });
    expect(calls.slice(2)).toEqual(["before:e2", 'after:e2:{"x":1,"added":true}']);
  });

  it("record a failing hook as a hook_failed event and let the task complete", async () => {
    const hooks = new HookRegistry();
    hooks.beforeExecute(() => {
      throw new Error("hook exploded");
    });
    await start(hooks);
    const root = await h.service.createTree([{ name: "n", executor: "noop" }], { execute: true });
    const [task] = await h.service.waitForTree(root.id);
    expect(task!.status).toBe("completed");
    const events = await h.service.events(root.id);
    expect(events.find((e) => e.type === "hook_failed")).toMatchObject({
      message: expect.stringContaining("hook exploded"),
    });
  });

  it("fire tree hooks at creation, start, completion and failure", async () => {
    const hooks = new HookRegistry();
    const seen: string[] = [];
    for (const milestone of ["created", "started", "completed", "failed"] as TreeMilestone[]) {
      hooks.onTree(milestone, (root, m) => void seen.push(`${root.name}:${m}`));
    }
    hooks.onTree("completed", () => {
      throw new Error("tree hook broke");
    });
    await start(hooks);
    const good = await h.service.createTree(
      [
        { name: "good", executor: "noop", dependencies: ["c"] },
        { name: "c", executor: "noop", parentId: "good" },
      ],
      { execute: true },
    );
    await h.service.waitForTree(good.id);
    const bad = await h.service.createTree([{ name: "bad", executor: "fail" }], { execute: true });
    await h.service.waitForTree(bad.id);
    await eventually(() => seen.length >= 6);
    expect(seen).toEqual([
      "good:created",
      "good:started",
      "good:completed",
      "bad:created",
      "bad:started",
      "bad:failed",
    ]);
    await eventually(async () => (await h.service.events(good.id)).some((e) => e.type === "hook_failed"));
  });
});
