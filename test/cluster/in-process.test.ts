/**
 * Several nodes in one process on one PostgreSQL database: leader election and
 * hand-over, placement across nodes, cross-node cancellation and events. (The
 * process-kill scenarios are in test/cluster/processes.test.ts.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Apflow, createApflow } from "../../src/apflow.js";
import { listNodes } from "../../src/storage/sql/cluster.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { eventually } from "../support/harness.js";
import { newProbe, testExecutors } from "../support/test-executors.js";

describe("cluster nodes on one PostgreSQL", () => {
  const nodes: Apflow[] = [];
  let database: TestDatabase | undefined;
  const probe = newProbe();

  async function node(nodeId: string, extra: Partial<Parameters<typeof createApflow>[0]> = {}) {
    database ??= await createTestDatabase();
    const apflow = await createApflow({
      databaseUrl: database.url,
      nodeId,
      logLevel: "silent",
      executors: testExecutors(probe),
      pollIntervalMs: 500,
      leaderLeaseMs: 1_500,
      heartbeatMs: 300,
      leaseMs: 3_000,
      ...extra,
    });
    nodes.push(apflow);
    return apflow;
  }

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
    await database?.drop();
    database = undefined;
  });

  it("elects one leader and hands over when it leaves", async () => {
    const a = await node("a");
    const b = await node("b");
    const c = await node("c", { nodeRole: "worker" });
    await eventually(() => a.cluster.isLeader);
    expect(b.cluster.isLeader).toBe(false);
    expect(c.cluster.isLeader).toBe(false);
    const term = a.cluster.leaderTerm!;
    await a.close();
    await eventually(() => b.cluster.isLeader, 5_000);
    expect(b.cluster.leaderTerm).toBe(term + 1);
    expect(c.cluster.isLeader).toBe(false);
  });

  it("runs a task only on a node its placement allows", async () => {
    const a = await node("a");
    const b = await node("b", { nodeTags: ["gpu"] });
    const root = await a.createTree(
      [
        { name: "root", executor: "noop", dependencies: ["gpu"] },
        { name: "gpu", executor: "echo", parentId: "root", inputs: { value: "ok" }, placement: { tags: ["gpu"] } },
      ],
      { execute: true },
    );
    const tasks = await a.waitForTree(root.id);
    const gpu = tasks.find((t) => t.name === "gpu")!;
    expect(gpu.status).toBe("completed");
    const events = await a.events(root.id);
    const started = events.find((e) => e.taskId === gpu.id && e.type === "started")!;
    expect(started.data).toEqual({ node: "b" });
    await b.close();
  });

  it("keeps a node limited to some trees off other work, and it offers the cluster no executors", async () => {
    // The API node knows the executor (so the tree is valid) but runs nothing.
    const api = await node("api", { nodeRole: "observer" });
    const cli = await node("cli", { onlyTrees: [] });
    const root = await api.createTree([{ name: "not the cli's", executor: "echo", inputs: { value: 1 } }], {
      execute: true,
    });
    const nodes = await listNodes(api.database.sql, 30_000, 120_000);
    expect(nodes.find((n) => n.id === "cli")).toMatchObject({ executors: [] });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await api.tasks.requireTask(root.id)).status).toBe("pending");
    cli.engine!.limitToTrees([root.treeId]);
    expect((await api.waitForTree(root.id)).map((t) => t.status)).toEqual(["completed"]);
  });

  it("cancels a task running on another node within a renewal interval, and relays its events", async () => {
    // a serves the API and runs nothing; it lacks the executor, which b offers.
    const a = await node("a", { executors: [], nodeRole: "observer" });
    const b = await node("b");
    const seen: string[] = [];
    const root = await a.createTree([{ name: "long", executor: "sleep", inputs: { ms: 60_000 } }]);
    const unsubscribe = a.subscribe(root.treeId, (event) => seen.push(`${event.type}${event.remote ? "@remote" : ""}`));
    await a.executeTask(root.id);
    await eventually(() => probe.started.includes("long"), 20_000);
    const cancelled = Date.now();
    await a.cancelTask(root.id);
    await eventually(() => probe.aborted.has("long"), 20_000);
    // NOTIFY brings it at once; lease renewal (every leaseMs / 3) is the bound. Generous on a loaded machine.
    expect(Date.now() - cancelled).toBeLessThan(3_000);
    await eventually(() => seen.includes("started@remote"), 20_000);
    unsubscribe();
    void b;
  });
});
