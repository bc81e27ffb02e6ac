/**
 * The behaviour contract (shared/docs/semantics.md) as one suite, run against every
 * TaskStore: memory, PGlite and PostgreSQL. A store passes only if it behaves the
 * same as the others.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApflowError, ErrorCode } from "../../src/core/errors.js";
import type { TaskStore } from "../../src/core/ports.js";
import { TaskBuilder } from "../../src/core/task-builder.js";
import type { Task } from "../../src/core/types.js";
import { eventually, type Harness, startHarness } from "./harness.js";

export interface StoreFactory {
  open(): Promise<TaskStore>;
  cleanup?(): Promise<void>;
}

export function defineEngineContract(label: string, factory: () => StoreFactory) {
  describe(`engine contract on ${label}`, () => {
    let h: Harness;
    let f: StoreFactory;
    const start = async (options = {}) => {
      h = await startHarness(await f.open(), options);
      return h;
    };

    beforeEach(() => {
      f = factory();
    });
    afterEach(async () => {
      await h?.stop();
      await h?.store.close();
      await f.cleanup?.();
    });

    const byName = (tasks: Task[]) => new Map(tasks.map((t) => [t.name, t]));

    it("runs a tree and passes results to dependents by the merge rules", async () => {
      await start();
      const root = await h.service.createTree(
        [
          { name: "root", executor: "aggregate_results_executor", dependencies: ["obj", "scalar"] },
          { id: "obj", name: "object result", executor: "echo", parentId: "root", inputs: { a: 1, b: 2 } },
          { id: "scalar", name: "scalar result", executor: "echo", parentId: "root", inputs: { value: 42 } },
          {
            name: "consumer",
            executor: "echo",
            parentId: "root",
            inputs: { b: "mine" },
            dependencies: [{ id: "obj" }, { id: "scalar" }],
          },
        ],
        { execute: true },
      );
      const tasks = byName(await h.service.waitForTree(root.id));
      expect([...tasks.values()].map((t) => t.status)).toEqual(Array(4).fill("completed"));
      // Object results merge shallowly, a scalar sits under the dependency id, own inputs win.
      expect(h.probe.inputs.get("consumer")).toEqual({ a: 1, b: "mine", scalar: 42 });
      expect(tasks.get("root")!.result).toEqual({ obj: { a: 1, b: 2 }, scalar: 42 });
      expect(tasks.get("root")!.progress).toBe(1);
      expect(tasks.get("consumer")!.completedAt).toBeInstanceOf(Date);
    });

    it("does not run a tree created without execute", async () => {
      await start();
      const root = await h.service.createTree([{ name: "idle", executor: "noop" }]);
      await new Promise((r) => setTimeout(r, 100));
      expect((await h.service.requireTask(root.id)).status).toBe("pending");
      await h.service.execute(root.id);
      const [task] = await h.service.waitForTree(root.id);
      expect(task!.status).toBe("completed");
    });

    it("runs ready tasks in (priority, createdAt, id) order, 0 first", async () => {
      await start({ maxParallel: 1 });
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop", priority: 9 },
          { name: "p3", executor: "noop", parentId: "root", priority: 3 },
          { name: "p0", executor: "noop", parentId: "root", priority: 0 },
          { name: "p2a", executor: "noop", parentId: "root" },
          { name: "p2b", executor: "noop", parentId: "root" },
          { name: "p1", executor: "noop", parentId: "root", priority: 1 },
        ],
        { execute: true },
      );
      await h.service.waitForTree(root.id);
      expect(h.probe.started).toEqual(["p0", "p1", "p2a", "p2b", "p3", "root"]);
    });

    it("is a ready-queue: a dependent starts as soon as its own dependencies finish", async () => {
      await start({ maxParallel: 2 });
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop", dependencies: ["slow", "fast2"] },
          { name: "slow", executor: "gate", parentId: "root", priority: 0 },
          { name: "fast1", executor: "noop", parentId: "root", priority: 0 },
          { name: "fast2", executor: "noop", parentId: "root", priority: 5, dependencies: ["fast1"] },
        ],
        { execute: true },
      );
      await eventually(() => h.probe.started.includes("fast2"));
      expect(h.probe.gates.has("slow")).toBe(true);
      h.probe.gates.get("slow")!();
      await h.service.waitForTree(root.id);
      expect(h.probe.started.at(-1)).toBe("root");
    });

    it("waits for optional dependencies and ignores their failure; fails required dependents transitively", async () => {
      await start();
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop" },
          { name: "broken", executor: "fail", parentId: "root" },
          { name: "needs", executor: "noop", parentId: "root", dependencies: ["broken"] },
          { name: "needs-needs", executor: "noop", parentId: "root", dependencies: ["needs"] },
          { name: "tolerant", executor: "echo", parentId: "root", dependencies: [{ id: "broken", required: false }] },
          { name: "slow-optional", executor: "sleep", parentId: "root", inputs: { ms: 80 } },
          {
            name: "waits",
            executor: "noop",
            parentId: "root",
            dependencies: [{ id: "slow-optional", required: false }],
          },
        ],
        { execute: true },
      );
      const tasks = byName(await h.service.waitForTree(root.id));
      expect(tasks.get("broken")!.status).toBe("failed");
      expect(tasks.get("broken")!.errorCode).toBe(ErrorCode.EXECUTOR_FAILED);
      for (const name of ["needs", "needs-needs"]) {
        expect(tasks.get(name)!.status).toBe("failed");
        expect(tasks.get(name)!.errorCode).toBe(ErrorCode.DEPENDENCY_FAILED);
      }
      expect(h.probe.started).not.toContain("needs");
      expect(tasks.get("tolerant")!.status).toBe("completed");
      expect(h.probe.inputs.get("tolerant")).toEqual({});
      // The optional dependency was waited for, not skipped.
      expect(h.probe.started.indexOf("waits")).toBeGreaterThan(h.probe.started.indexOf("slow-optional"));
      expect(tasks.get("waits")!.startedAt!.getTime()).toBeGreaterThanOrEqual(
        tasks.get("slow-optional")!.completedAt!.getTime(),
      );
      expect(await h.store.openTaskCount(root.id)).toBe(0);
    });

    it("retries with backoff up to maxAttempts, recording each attempt", async () => {
      await start();
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop" },
          { name: "flaky", executor: "flaky", parentId: "root", maxAttempts: 3, inputs: { succeedOn: 3 } },
          { name: "hopeless", executor: "fail", parentId: "root", maxAttempts: 2 },
        ],
        { execute: true },
      );
      const tasks = byName(await h.service.waitForTree(root.id));
      expect(tasks.get("flaky")).toMatchObject({ status: "completed", attempt: 3, result: { attempt: 3 } });
      expect(tasks.get("hopeless")).toMatchObject({ status: "failed", attempt: 2 });
      const events = await h.service.events(root.id);
      const flakyEvents = events.filter((e) => e.taskId === tasks.get("flaky")!.id).map((e) => e.type);
      expect(flakyEvents).toEqual(["created", "started", "retrying", "started", "retrying", "started", "completed"]);
    });

    it("fails a task that exceeds its timeout with TIMEOUT and aborts its executor", async () => {
      await start();
      const root = await h.service.createTree([{ name: "slow", executor: "sleep", timeoutMs: 50 }], {
        execute: true,
      });
      const [task] = await h.service.waitForTree(root.id);
      expect(task).toMatchObject({ status: "failed", errorCode: ErrorCode.TIMEOUT });
      expect(h.probe.aborted.get("slow")).toBe(ErrorCode.TIMEOUT);
    });

    it("frees the slot of an executor that ignores its signal when it times out", async () => {
      await start({ maxParallel: 1 });
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop", dependencies: [{ id: "stuck", required: false }] },
          { name: "stuck", executor: "ignore_abort", parentId: "root", timeoutMs: 30 },
        ],
        { execute: true },
      );
      const tasks = byName(await h.service.waitForTree(root.id));
      expect(tasks.get("stuck")!.errorCode).toBe(ErrorCode.TIMEOUT);
      expect(tasks.get("root")!.status).toBe("completed");
    });

    it("cancels a running task, its descendants and required dependents; optional dependents run", async () => {
      await start();
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop", dependencies: [{ id: "branch", required: false }] },
          { name: "branch", executor: "gate", parentId: "root" },
          { name: "leaf", executor: "noop", parentId: "branch", dependencies: ["branch"] },
          { name: "needs-branch", executor: "noop", parentId: "root", dependencies: ["branch"] },
        ],
        { execute: true },
      );
      await eventually(() => h.probe.gates.has("branch"));
      const branch = (await h.service.listTasks({ treeId: root.id, name: "branch" }))[0]!;
      const cancelled = await h.service.cancel(branch.id);
      expect(cancelled.status).toBe("cancelled");
      const tasks = byName(await h.service.waitForTree(root.id));
      expect(h.probe.aborted.get("branch")).toBe(ErrorCode.CANCELLED);
      expect(tasks.get("leaf")!.status).toBe("cancelled");
      expect(tasks.get("needs-branch")!.status).toBe("cancelled");
      expect(tasks.get("root")!.status).toBe("completed");
      await expect(h.service.cancel(branch.id)).rejects.toMatchObject({ code: ErrorCode.INVALID_TRANSITION });
    });

    it("records a queued event per reset task, and one saying how many were queued", async () => {
      await start();
      h.probe.failing.add("c0").add("c1");
      const root = await h.service.createTree([
        { name: "root", executor: "noop" },
        ...Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, executor: "switch", parentId: "root" })),
      ]);
      const queuedAfter = async (seq: number) =>
        (await h.store.listEvents(root.id, seq, 100)).filter((e) => e.type === "queued");
      // A first run changes no status: one event, on the task asked to run.
      await h.service.execute(root.id);
      expect(await queuedAfter(0)).toMatchObject([{ taskId: root.id, status: "pending", data: { queuedTasks: 6 } }]);
      const tasks = byName(await h.service.waitForTree(root.id));
      expect(tasks.get("c0")!.status).toBe("failed");
      // A re-run resets the failed tasks: each reset is a status change with its own event.
      const ranUntil = (await h.store.listEvents(root.id, 0, 100)).at(-1)!.seq;
      h.probe.failing.clear();
      await h.service.execute(root.id);
      const rerun = await queuedAfter(ranUntil);
      expect(rerun.map((e) => e.taskId).sort()).toEqual([tasks.get("c0")!.id, tasks.get("c1")!.id].sort());
      expect(rerun.map((e) => e.status)).toEqual(["pending", "pending"]);
      expect(rerun.map((e) => e.data)).toContainEqual({ queuedTasks: 2 });
      await h.service.waitForTree(root.id);
    });

    it("re-runs only what did not complete, or everything with rerunAll", async () => {
      await start();
      h.probe.failing.add("bad");
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop", dependencies: ["ok", "bad"] },
          { name: "ok", executor: "noop", parentId: "root" },
          { name: "bad", executor: "switch", parentId: "root" },
        ],
        { execute: true },
      );
      let tasks = byName(await h.service.waitForTree(root.id));
      expect(tasks.get("bad")!.status).toBe("failed");
      expect(tasks.get("root")!.errorCode).toBe(ErrorCode.DEPENDENCY_FAILED);
      h.probe.failing.clear();
      h.probe.started.length = 0;
      const rerun = await h.service.execute(root.id);
      expect(rerun).toMatchObject({ status: "pending", error: null, attempt: 0 });
      tasks = byName(await h.service.waitForTree(root.id));
      expect(h.probe.started).toEqual(["bad", "root"]);
      expect([...tasks.values()].every((t) => t.status === "completed")).toBe(true);
      h.probe.started.length = 0;
      await h.service.execute(root.id, { rerunAll: true });
      await h.service.waitForTree(root.id);
      expect(h.probe.started.sort()).toEqual(["bad", "ok", "root"]);
      // A completed task with an idempotency key is never executed again.
      const keyed = await h.service.createTree(
        [
          { name: "keyed-root", executor: "noop", dependencies: ["keyed"] },
          { name: "keyed", executor: "noop", parentId: "keyed-root", idempotencyKey: `key-${root.id}` },
        ],
        { execute: true },
      );
      await h.service.waitForTree(keyed.id);
      h.probe.started.length = 0;
      await h.service.execute(keyed.id, { rerunAll: true });
      await h.service.waitForTree(keyed.id);
      expect(h.probe.started).toEqual(["keyed-root"]);
      // Re-running a completed tree without rerunAll has nothing to do.
      h.probe.started.length = 0;
      await h.service.execute(root.id);
      await new Promise((r) => setTimeout(r, 50));
      expect(h.probe.started).toEqual([]);
    });

    it("copies a subtree into a new independent tree", async () => {
      await start();
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop", dependencies: ["a"] },
          { name: "a", executor: "echo", parentId: "root", inputs: { x: 1 } },
        ],
        { execute: true },
      );
      const original = byName(await h.service.waitForTree(root.id));
      const copy = await h.service.copy(root.id);
      expect(copy.id).not.toBe(root.id);
      expect(copy).toMatchObject({ status: "pending", originType: "copy", originalTaskId: root.id, treeId: copy.id });
      const copied = byName((await h.service.getTaskTree(copy.id)).children);
      expect(copied.get("a")!.id).not.toBe(original.get("a")!.id);
      const copiedRoot = await h.service.requireTask(copy.id);
      expect(copiedRoot.dependencies).toEqual([{ id: copied.get("a")!.id, required: true }]);
      await h.service.execute(copy.id);
      const done = byName(await h.service.waitForTree(copy.id));
      expect(done.get("a")!.result).toEqual({ x: 1 });
    });

    it("deletes pending subtrees only", async () => {
      await start();
      const root = await h.service.createTree([
        { name: "root", executor: "noop" },
        { name: "child", executor: "noop", parentId: "root" },
        { name: "grandchild", executor: "noop", parentId: "child" },
        { name: "other", executor: "noop", parentId: "root", dependencies: ["child"] },
      ]);
      const child = (await h.service.listTasks({ treeId: root.id, name: "child" }))[0]!;
      await expect(h.service.delete(child.id)).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
      // A leaf subtree goes with its events; the rest of the tree keeps its own.
      const other = (await h.service.listTasks({ treeId: root.id, name: "other" }))[0]!;
      expect(await h.service.delete(other.id)).toBe(true);
      const left = await h.store.listEvents(root.id, 0, 100);
      expect(left.map((e) => e.taskId).sort()).toEqual(
        (await h.service.listTasks({ treeId: root.id })).map((t) => t.id).sort(),
      );
      expect(await h.service.delete(root.id)).toBe(true);
      expect(await h.service.getTask(child.id)).toBeNull();
      expect(await h.service.countTasks({ treeId: root.id })).toBe(0);
      expect(await h.store.listEvents(root.id, 0, 100)).toEqual([]);
      // The tree id is free again: nothing of the deleted tree is left to clash with.
      const again = await h.service.createTree([
        { id: root.id, name: "root", executor: "noop" },
        { id: child.id, name: "child", executor: "noop", parentId: root.id },
      ]);
      expect(await h.service.countTasks({ treeId: again.treeId })).toBe(2);
      const ran = await h.service.createTree([{ name: "ran", executor: "noop" }], { execute: true });
      await h.service.waitForTree(ran.id);
      await expect(h.service.delete(ran.id)).rejects.toMatchObject({ code: ErrorCode.INVALID_TRANSITION });
    });

    it("rejects an invalid tree with one error listing every problem, writing nothing", async () => {
      await start();
      const before = await h.service.countTasks();
      const existing = await h.service.createTree([{ id: "taken", name: "taken", executor: "noop" }]);
      const error = await h.service
        .createTree([
          { name: "root", executor: "noop" },
          { name: "second-root", executor: "noop" },
          { name: "dup", executor: "noop", parentId: "root" },
          { name: "dup", executor: "noop", parentId: "root" },
          { name: "x", executor: "no_such_executor", parentId: "root", dependencies: ["y"] },
          { name: "y", executor: "noop", parentId: "root", dependencies: ["x", "ghost", existing.id] },
          { name: "z", executor: "noop", parentId: "nowhere", priority: -1 },
        ])
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ApflowError);
      const codes = (error as ApflowError).problems.map((p) => p.code).sort();
      expect(codes).toEqual(
        [
          ErrorCode.DEPENDENCY_CYCLE,
          ErrorCode.DUPLICATE_NAME,
          ErrorCode.EXECUTOR_NOT_FOUND,
          ErrorCode.MULTIPLE_ROOTS,
          ErrorCode.REFERENCE_OUTSIDE_TREE,
          ErrorCode.UNKNOWN_REFERENCE,
          ErrorCode.UNKNOWN_REFERENCE,
          ErrorCode.VALIDATION_ERROR,
        ].sort(),
      );
      expect((error as ApflowError).message).toContain('"x" -> "y" -> "x"');
      expect(await h.service.countTasks()).toBe(before + 1);
    });

    it("stores gap-free per-tree events before publishing them, including progress", async () => {
      await start();
      const root = await h.service.createTree(
        [
          { name: "root", executor: "noop", dependencies: ["p"] },
          { name: "p", executor: "progress", parentId: "root" },
        ],
        { execute: true },
      );
      await h.service.waitForTree(root.id);
      const stored = await h.service.events(root.id);
      expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
      const published = h.published.filter((e) => e.treeId === root.id);
      expect(published.map((e) => e.seq).sort((a, b) => a - b)).toEqual(stored.map((e) => e.seq));
      const progress = stored.filter((e) => e.type === "progress");
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress.at(-1)!.progress).toBe(0.5);
      expect(stored.at(-1)).toMatchObject({ type: "completed", status: "completed" });
      const tail = await h.service.events(root.id, stored.length - 2);
      expect(tail.map((e) => e.seq)).toEqual([stored.length - 1, stored.length]);
    });

    it("accepts the Python apflow task format and the TaskBuilder", async () => {
      await start();
      const py = await h.service
        .createTree(
          [
            { id: "r", name: "root", schemas: { method: "noop" }, dependencies: [{ id: "c", required: true }] },
            { id: "c", name: "child", parent_id: "r", schemas: { method: "echo" }, inputs: { v: 1 }, max_attempts: 2 },
          ].map((t) => ({ ...t, id: `${t.id}-${Date.now()}` })),
          { execute: false },
        )
        .catch((e) => e);
      // ids are rewritten above, so parent_id "r" no longer matches: the error names it.
      expect(py).toBeInstanceOf(ApflowError);
      const ok = await h.service.createTree(
        [
          { name: "root", schemas: { method: "noop" }, dependencies: [{ id: "child", required: true }] },
          { name: "child", parent_id: "root", schemas: { method: "echo" }, inputs: { v: 1 }, max_attempts: 2 },
        ],
        { execute: true },
      );
      const done = byName(await h.service.waitForTree(ok.id));
      expect(done.get("child")).toMatchObject({ executor: "echo", maxAttempts: 2, result: { v: 1 } });

      const tree = new TaskBuilder();
      const report = tree.root({ name: "report", executor: "aggregate_results_executor" });
      const a = report.child({ name: "a", executor: "echo", inputs: { value: "A" } });
      const b = report.child({ name: "b", executor: "echo", inputs: { value: "B" }, priority: 0 });
      report.dependsOn(a).after(b);
      const built = await h.service.createTree(tree.build(), { execute: true });
      const all = byName(await h.service.waitForTree(built.id));
      expect(all.get("report")!.result).toEqual({ [all.get("a")!.id]: "A", [all.get("b")!.id]: "B" });
    });

    it("claims only what the node may run: its executors and the task's placement", async () => {
      await start();
      await h.engine.stop(0);
      await h.service.createTree(
        [
          { name: "any", executor: "noop" },
          { name: "gpu", executor: "noop", parentId: "any", placement: { tags: ["gpu"] } },
          { name: "only-b", executor: "noop", parentId: "any", placement: { allowNodes: ["b"] } },
          { name: "not-a", executor: "noop", parentId: "any", placement: { forbidNodes: ["a"] } },
          { name: "needs-echo", executor: "noop", parentId: "any", placement: { executors: ["echo"] } },
        ],
        { execute: true },
      );
      const names = async (nodeId: string, executors: string[], tags: string[]) => {
        const { tasks } = await h.store.claim({ nodeId, executors, tags }, 10, 30_000);
        return tasks.map((t) => t.task.name).sort();
      };
      expect(await names("a", ["echo"], ["gpu"])).toEqual([]);
      expect(await names("a", ["noop"], [])).toEqual(["any"]);
      expect(await names("a", ["noop", "echo"], ["gpu"])).toEqual(["gpu", "needs-echo"]);
      expect(await names("b", ["noop"], [])).toEqual(["not-a", "only-b"]);
    });

    it("records a batch mixing completions, retries, final failures and a stale lease", async () => {
      await start({ maxParallel: 1 });
      await h.engine.stop(0);
      const root = await h.service.createTree(
        [
          { id: "a", name: "a", executor: "noop" },
          { id: "b", name: "b", executor: "noop", parentId: "a", maxAttempts: 2 },
          { id: "c", name: "c", executor: "noop", parentId: "a" },
          { id: "d", name: "d", executor: "noop", parentId: "a" },
          { id: "after-c", name: "after-c", executor: "noop", parentId: "a", dependencies: ["c"] },
          { id: "after-a", name: "after-a", executor: "noop", parentId: "a", dependencies: ["a"] },
        ],
        { execute: true },
      );
      const node = { ...h.engine.capabilities(), nodeId: "node-a" };
      const claimed = await h.store.claim(node, 10, 30_000);
      const token = new Map(claimed.tasks.map((t) => [t.task.id, t.leaseToken]));
      expect([...token.keys()].sort()).toEqual(["a", "b", "c", "d"]);
      expect(claimed.events.map((e) => [e.taskId, e.type])).toEqual(claimed.tasks.map((t) => [t.task.id, "started"]));

      const finished = await h.store.finish([
        { kind: "completed", taskId: "a", leaseToken: token.get("a")!, result: { ok: true } },
        {
          kind: "failed",
          taskId: "b",
          leaseToken: token.get("b")!,
          error: "flaky",
          errorCode: "E1",
          retryInMs: 60_000,
        },
        { kind: "failed", taskId: "c", leaseToken: token.get("c")!, error: "broken", errorCode: "E2" },
        { kind: "completed", taskId: "d", leaseToken: "00000000-0000-4000-8000-000000000000", result: "stale" },
      ]);
      expect(finished.lost).toEqual(["d"]);
      expect(finished.events.map((e) => [e.taskId, e.type, e.status]).sort()).toEqual(
        [
          ["a", "completed", "completed"],
          ["b", "retrying", "pending"],
          ["c", "failed", "failed"],
          ["after-c", "failed", "failed"],
        ].sort(),
      );
      expect(finished.events.find((e) => e.taskId === "b")!.data).toEqual({ errorCode: "E1", retryInMs: 60_000 });
      // The tree's events, as stored, are numbered 1..n with no gap, and the batch's
      // events are the last ones, in the order returned.
      const stored = await h.store.listEvents(root.id, 0, 100);
      expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
      expect(stored.slice(-finished.events.length).map((e) => [e.seq, e.taskId])).toEqual(
        finished.events.map((e) => [e.seq, e.taskId]),
      );

      const tasks = byName(await h.service.listTasks({ treeId: root.id }));
      expect(tasks.get("a")).toMatchObject({ status: "completed", result: { ok: true }, progress: 1 });
      expect(tasks.get("b")).toMatchObject({ status: "pending", error: "flaky", errorCode: "E1", attempt: 1 });
      expect(tasks.get("c")).toMatchObject({ status: "failed", error: "broken", errorCode: "E2" });
      expect(tasks.get("after-c")).toMatchObject({ status: "failed", errorCode: ErrorCode.DEPENDENCY_FAILED });
      expect(tasks.get("d")).toMatchObject({ status: "in_progress", leaseOwner: "node-a" });
      // a's completion released its dependent: it is the one task ready now (b waits out its backoff).
      const next = await h.store.claim(node, 10, 30_000);
      expect(next.tasks.map((t) => t.task.id)).toEqual(["after-a"]);
    });

    it("claims only tasks of the trees a node is limited to", async () => {
      await start();
      await h.engine.stop(0);
      const mine = await h.service.createTree([{ name: "mine", executor: "noop" }], { execute: true });
      const other = await h.service.createTree([{ name: "other", executor: "noop" }], { execute: true });
      const node = { ...h.engine.capabilities(), nodeId: "cli" };
      expect((await h.store.claim({ ...node, trees: [] }, 10, 30_000)).tasks).toEqual([]);
      const claimed = await h.store.claim({ ...node, trees: [mine.treeId] }, 10, 30_000);
      expect(claimed.tasks.map((t) => t.task.id)).toEqual([mine.id]);
      expect((await h.service.requireTask(other.id)).status).toBe("pending");
    });

    it("fences outcomes by lease token and returns expired leases to the queue", async () => {
      await start({ maxParallel: 1 });
      await h.engine.stop(0);
      const root = await h.service.createTree([{ name: "lonely", executor: "noop" }], { execute: true });
      const first = await h.store.claim({ ...h.engine.capabilities(), nodeId: "node-a" }, 10, 1);
      expect(first.tasks.map((t) => t.task.id)).toEqual([root.id]);
      expect(first.tasks[0]!.task).toMatchObject({ status: "in_progress", attempt: 1, leaseOwner: "node-a" });
      await new Promise((r) => setTimeout(r, 20));
      const reclaimed = await h.store.reclaimExpired(10);
      expect(reclaimed.map((e) => e.type)).toEqual(["lease_expired"]);
      const second = await h.store.claim({ ...h.engine.capabilities(), nodeId: "node-b" }, 10, 30_000);
      expect(second.tasks[0]!.task.attempt).toBe(2);
      const stale = await h.store.finish([
        { kind: "completed", taskId: root.id, leaseToken: first.tasks[0]!.leaseToken, result: "stale" },
      ]);
      expect(stale.lost).toEqual([root.id]);
      expect(
        await h.store.renewLeases("node-a", [{ taskId: root.id, leaseToken: first.tasks[0]!.leaseToken }], 1000),
      ).toEqual([root.id]);
      const fresh = await h.store.finish([
        { kind: "completed", taskId: root.id, leaseToken: second.tasks[0]!.leaseToken, result: "fresh" },
      ]);
      expect(fresh.lost).toEqual([]);
      expect((await h.service.requireTask(root.id)).result).toBe("fresh");
    });
  });
}
