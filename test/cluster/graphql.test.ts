/**
 * The cluster as GraphQL shows it (Query.clusterNodes, Query.cluster) on one
 * PostgreSQL database: in-process nodes (createApflow + buildApp, the API served by
 * an observer) plus one node process (./node-process.ts) whose heartbeats the test
 * stops with SIGSTOP, to watch it turn STALE, then DEAD, then HEALTHY again.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Apflow, type ApflowOptions, createApflow } from "../../src/apflow.js";
import { type App, buildApp } from "../../src/server/app.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { newProbe, testExecutors } from "../support/test-executors.js";
import {
  type ClusterView,
  clusterView,
  createTree,
  gql,
  killNodes,
  type NodeProcess,
  startNode,
  until,
} from "./nodes.js";

/** Thresholds of the nodes in this process (the observer's decide the statuses it reports). */
const STALE_MS = 1_500;
const DEAD_MS = 4_000;

interface NodeView {
  id: string;
  role: string;
  status: "HEALTHY" | "STALE" | "DEAD";
  isLeader: boolean;
  executors: string[];
  tags: string[];
  running: number;
  host: string;
  pid: number;
  apiUrl: string | null;
  heartbeatAt: string;
  startedAt: string;
}

const NODES = /* GraphQL */ `
  { clusterNodes { id role status isLeader executors tags running host pid apiUrl heartbeatAt startedAt } }
`;

describe("the cluster over GraphQL", () => {
  let database: TestDatabase;
  let dir: string;
  const nodes: Apflow[] = [];
  let lead: Apflow;
  let observer: Apflow;
  let app: App;
  let url: string;
  let frozen: NodeProcess;
  const probe = newProbe();

  async function node(nodeId: string, options: ApflowOptions = {}): Promise<Apflow> {
    const apflow = await createApflow({
      databaseUrl: database.url,
      nodeId,
      logLevel: "silent",
      executors: testExecutors(probe),
      leaseMs: 3_000,
      leaderLeaseMs: 1_500,
      heartbeatMs: 200,
      pollIntervalMs: 200,
      staleMs: STALE_MS,
      deadMs: DEAD_MS,
      ...options,
    });
    nodes.push(apflow);
    return apflow;
  }

  const listNodes = async () => (await gql<{ clusterNodes: NodeView[] }>(url, NODES)).clusterNodes;
  const byId = async (id: string) => (await listNodes()).find((n) => n.id === id);

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), "apflow-cluster-gql-"));
    // Started one after another: clusterNodes lists them oldest first.
    lead = await node("lead", { nodeTags: ["x"] });
    await until("lead leads", () => lead.cluster.isLeader, 10_000);
    await node("wrk", { nodeRole: "worker", nodeTags: ["gpu"] });
    observer = await node("obs", { nodeRole: "observer" });
    app = buildApp({ apflow: observer, port: 0 });
    url = await app.start();
    frozen = await startNode({
      databaseUrl: database.url,
      nodeId: "frozen",
      log: path.join(dir, "work.log"),
      role: "worker",
      tags: ["arm", "ssd"],
    });
  }, 120_000);

  afterAll(async () => {
    await killNodes();
    await app?.stop();
    await Promise.all(nodes.map((n) => n.close()));
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("lists every node with its role, status, leadership, executors, tags and load", async () => {
    const list = await until(
      "four healthy nodes",
      async () => {
        const found = await listNodes();
        return found.length === 4 && found.every((n) => n.status === "HEALTHY") ? found : null;
      },
      20_000,
      100,
    );
    expect(list.map((n) => n.id)).toEqual(["lead", "wrk", "obs", "frozen"]);
    const [l, w, o, f] = list as [NodeView, NodeView, NodeView, NodeView];
    expect(l).toMatchObject({ role: "auto", isLeader: true, tags: ["x"], pid: process.pid, apiUrl: null });
    expect(l.executors).toEqual(expect.arrayContaining(["sleep", "fail", "noop"]));
    expect(w).toMatchObject({ role: "worker", isLeader: false, tags: ["gpu"], running: 0 });
    expect(w.executors).toEqual(expect.arrayContaining(["sleep", "fail"]));
    // An observer serves the API and runs nothing.
    expect(o).toMatchObject({ role: "observer", isLeader: false, executors: [], tags: [], running: 0 });
    expect(f).toMatchObject({
      role: "worker",
      isLeader: false,
      tags: ["arm", "ssd"],
      pid: frozen.pid,
      apiUrl: frozen.url,
    });
    expect(f.executors).toContain("work");
    expect(f.executors).not.toContain("sleep");
    for (const n of list) {
      expect(n.host).toBeTruthy();
      expect(Date.parse(n.heartbeatAt)).toBeGreaterThanOrEqual(Date.parse(n.startedAt));
      expect(Date.now() - Date.parse(n.heartbeatAt)).toBeLessThan(STALE_MS + 1_000);
    }

    // `running` is the load at the node's last heartbeat.
    const id = await createTree(url, [
      { name: "busy", executor: "sleep", inputs: { ms: 60_000 }, placement: { allowNodes: ["wrk"] } },
    ]);
    await until("wrk reports one running task", async () => (await byId("wrk"))?.running === 1, 10_000, 100);
    expect((await byId("lead"))?.running).toBe(0);
    await gql(url, `mutation($id: ID!) { cancelTask(id: $id) { id } }`, { id });
    await until("wrk reports nothing running", async () => (await byId("wrk"))?.running === 0, 10_000, 100);
  });

  it("gives the leader, the node counts and the queue depth by status", async () => {
    const before = await clusterView(url);
    const run = (tasks: Parameters<typeof createTree>[1], execute = true) => createTree(url, tasks, execute);
    const state = (id: string) =>
      gql<{ task: { status: string } }>(url, `query($id: ID!) { task(id: $id) { status } }`, { id }).then(
        (d) => d.task.status,
      );
    const done = await Promise.all([1, 2].map((i) => run([{ name: `ok${i}`, executor: "sleep", inputs: { ms: 10 } }])));
    const failed = await run([{ name: "boom", executor: "fail" }]);
    const cancelled = await run([{ name: "never", executor: "noop" }], false);
    await gql(url, `mutation($id: ID!) { cancelTask(id: $id) { id } }`, { id: cancelled });
    // Pending, not asked to run; pending and ready (readiness is about dependencies and backoff, not
    // placement), though no node has the tag; running (on wrk, for a minute).
    await run([{ name: "idle1", executor: "noop" }], false);
    await run([{ name: "idle2", executor: "noop" }], false);
    const unplaceable = await run([{ name: "tpu", executor: "noop", placement: { tags: ["tpu"] } }]);
    const busy = await run([
      { name: "busy", executor: "sleep", inputs: { ms: 60_000 }, placement: { allowNodes: ["wrk"] } },
    ]);
    await until(
      "the tasks settled",
      async () =>
        (await Promise.all([...done.map(state), state(failed), state(busy)])).join() ===
        "COMPLETED,COMPLETED,FAILED,IN_PROGRESS",
      20_000,
      100,
    );
    const after = await clusterView(url);
    expect(after).toMatchObject({ leaderId: "lead", healthyNodes: 4, staleNodes: 0, deadNodes: 0 });
    expect(after.leaderTerm).toBe(before.leaderTerm);
    expect(after.leaderTerm).toBeGreaterThanOrEqual(1);
    const delta = (key: keyof ClusterView["queue"]) => after.queue[key] - before.queue[key];
    expect({
      pending: delta("pending"),
      ready: delta("ready"),
      inProgress: delta("inProgress"),
      completed: delta("completed"),
      failed: delta("failed"),
      cancelled: delta("cancelled"),
    }).toEqual({ pending: 3, ready: 1, inProgress: 1, completed: 2, failed: 1, cancelled: 1 });
    // The unplaceable one says why, naming the nodes that run tasks (not the observer).
    const { task } = await gql<{ task: { waitingReason: string } }>(
      url,
      `query($id: ID!) { task(id: $id) { waitingReason } }`,
      { id: unplaceable },
    );
    expect(task.waitingReason).toMatch(/^no live node can run it: /);
    for (const id of ["lead", "wrk", "frozen"]) expect(task.waitingReason).toContain(`${id} `);
    expect(task.waitingReason).not.toContain("obs");
    await gql(url, `mutation($id: ID!) { cancelTask(id: $id) { id } }`, { id: busy });
  });

  it("shows a node whose heartbeats stopped as STALE, then DEAD, and HEALTHY again once they resume", async () => {
    await until("frozen healthy", async () => (await byId("frozen"))?.status === "HEALTHY", 20_000, 100);
    frozen.child.kill("SIGSTOP");
    const stoppedAt = Date.now();
    try {
      const stale = await until(
        "frozen STALE",
        async () => {
          if ((await byId("frozen"))?.status !== "STALE") return null;
          // Read after the node list, so both reads see the node stale (the view is a
          // second query; on a loaded machine the node can turn stale in between).
          const view = await clusterView(url);
          return view.staleNodes === 1 ? { view, at: Date.now() } : null;
        },
        STALE_MS + 15_000,
        100,
      );
      expect(stale.view.staleNodes).toBe(1);
      expect(stale.view.healthyNodes).toBe(3);
      await until("frozen DEAD", async () => (await byId("frozen"))?.status === "DEAD", DEAD_MS + 15_000, 100);
      const dead = await clusterView(url);
      expect(dead).toMatchObject({ healthyNodes: 3, staleNodes: 0, deadNodes: 1 });
      expect(stale.at - stoppedAt).toBeGreaterThan(STALE_MS - 1_000);
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(DEAD_MS - 1_000);
    } finally {
      frozen.child.kill("SIGCONT");
    }
    await until("frozen HEALTHY again", async () => (await byId("frozen"))?.status === "HEALTHY", 20_000, 100);
    expect((await clusterView(url)).deadNodes).toBe(0);
  }, 60_000);

  it("reports no leader once the only eligible node left, and a higher term when another takes over", async () => {
    const term = (await clusterView(url)).leaderTerm!;
    await lead.close();
    // Clean leave: the lease is released and the node unregistered at once.
    const none = await clusterView(url);
    expect(none.leaderId).toBeNull();
    expect(none.leaderTerm).toBeNull();
    expect((await listNodes()).map((n) => n.id)).toEqual(["wrk", "obs", "frozen"]);
    await node("lead2", { nodeRole: "leader" });
    const next = await until(
      "lead2 leads",
      async () => {
        const view = await clusterView(url);
        return view.leaderId === "lead2" ? view : null;
      },
      10_000,
      100,
    );
    expect(next.leaderTerm).toBe(term + 1);
    expect((await byId("lead2"))?.isLeader).toBe(true);
    expect((await byId("wrk"))?.isLeader).toBe(false);
  });
});
