/**
 * Subscriptions over real WebSockets with the graphql-ws client: a task's status
 * changes, a tree's whole event stream, and a reconnect that resumes with `after`
 * and loses nothing.
 */
import { print } from "graphql";
import { describe, expect, it } from "vitest";
import type {
  RootProgressSubscription,
  TaskStatusChangedSubscription,
  TreeEventsSubscription,
} from "../../src/client/gql/graphql.js";
import { graphql } from "../../src/client/gql/index.js";
import { eventually } from "../support/harness.js";
import { collect, subscribe, useTestServer } from "../support/server.js";
import { newProbe, testExecutors } from "../support/test-executors.js";

const StatusChanged = print(
  graphql(`
    subscription TaskStatusChanged($id: ID!) {
      taskStatusChanged(id: $id) {
        id
        status
        progress
      }
    }
  `),
);

const TreeEvents = print(
  graphql(`
    subscription TreeEvents($rootId: ID!, $after: ID) {
      taskTreeEvents(rootId: $rootId, after: $after) {
        id
        seq
        type
        status
        task {
          name
        }
      }
    }
  `),
);

const RootProgress = print(
  graphql(`
    subscription RootProgress($id: ID!) {
      taskStatusChanged(id: $id) {
        status
        rollup {
          completed
          total
        }
      }
    }
  `),
);

type TreeEvent = TreeEventsSubscription["taskTreeEvents"];

describe.each(["pglite", "postgres"] as const)("subscriptions on %s", (kind) => {
  const probe = newProbe();
  const s = useTestServer(kind, { apflow: { executors: testExecutors(probe) } });

  /** A tree whose tasks wait at gates the test opens: a, b (needs a), root (needs both). */
  async function gatedTree(prefix: string) {
    const root = await s.apflow.createTree(
      [
        { name: `${prefix}root`, executor: "gate", dependencies: [`${prefix}a`, `${prefix}b`] },
        { name: `${prefix}a`, executor: "gate", parentId: `${prefix}root` },
        { name: `${prefix}b`, executor: "progress", parentId: `${prefix}root`, dependencies: [`${prefix}a`] },
      ],
      { execute: true },
    );
    const open = async (name: string) => {
      await eventually(() => probe.gates.has(`${prefix}${name}`), 10_000);
      probe.gates.get(`${prefix}${name}`)!();
    };
    return { root, open };
  }

  it("taskStatusChanged sends the task now and at each change, and completes when it is terminal", async () => {
    const { root, open } = await gatedTree("status-");
    const a = (await s.apflow.listTasks({ treeId: root.id, name: "status-a" }))[0]!;
    const seen = subscribe<TaskStatusChangedSubscription>(s.wsClient(), StatusChanged, { id: a.id });
    await seen.received(1);
    await open("a");
    const values = (await seen.done).map((v) => v.taskStatusChanged.status);
    expect(values.at(-1)).toBe("COMPLETED");
    expect(values[0]).toMatch(/PENDING|IN_PROGRESS/);
    expect(new Set(values).size).toBeGreaterThanOrEqual(2);
    await open("root");
    await s.apflow.waitForTree(root.id);
  });

  it("taskTreeEvents replays, then streams, gap-free, and completes when the tree is finished", async () => {
    const { root, open } = await gatedTree("stream-");
    const seen = collect<TreeEventsSubscription>(s.wsClient(), TreeEvents, { rootId: root.id });
    await open("a");
    await open("root");
    const events = (await seen).map((v) => v.taskTreeEvents);
    const stored = await s.apflow.events(root.id);
    expect(events.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.type)).toContain("PROGRESS");
    expect(events.at(-1)).toMatchObject({ type: "COMPLETED", task: { name: "stream-root" } });
    expect(events[0]!.id).toBe(`${root.id}:1`);
  });

  it("resumes after a reconnect from the last event id, losing and repeating nothing", async () => {
    const { root, open } = await gatedTree("resume-");
    const received: TreeEvent[] = [];
    const first = s.wsClient();
    // First connection: read until task a is running, then drop the socket.
    await new Promise<void>((resolve, reject) => {
      const unsubscribe = first.subscribe<TreeEventsSubscription>(
        { query: TreeEvents, variables: { rootId: root.id } },
        {
          next: (value) => {
            received.push(value.data!.taskTreeEvents);
            if (value.data!.taskTreeEvents.type === "STARTED") {
              unsubscribe();
              resolve();
            }
          },
          error: reject,
          complete: () => reject(new Error("completed too early")),
        },
      );
    });
    await first.dispose();
    // Events happen while nobody listens.
    await open("a");
    await eventually(async () => (await s.apflow.events(root.id)).some((e) => e.type === "completed"), 10_000);
    const resumed = collect<TreeEventsSubscription>(s.wsClient(), TreeEvents, {
      rootId: root.id,
      after: received.at(-1)!.id,
    });
    await open("root");
    received.push(...(await resumed).map((v) => v.taskTreeEvents));
    const stored = await s.apflow.events(root.id);
    expect(received.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
  });

  it("re-reads computed figures at every event of a long-lived subscription (roll-up was stuck at its first value)", async () => {
    const { root, open } = await gatedTree("rollup-");
    const seen = subscribe<RootProgressSubscription>(s.wsClient(), RootProgress, { id: root.id });
    await seen.received(1);
    await open("a");
    await open("root");
    const values = await seen.done;
    expect(values[0]!.taskStatusChanged.rollup.completed).toBe(0);
    expect(values.at(-1)!.taskStatusChanged).toEqual({ status: "COMPLETED", rollup: { completed: 3, total: 3 } });
  });

  it("rejects an unknown tree and a malformed cursor with typed errors", async () => {
    await expect(collect(s.wsClient(), TreeEvents, { rootId: "missing" })).rejects.toThrow(/NOT_FOUND/);
    const { root, open } = await gatedTree("bad-");
    await expect(collect(s.wsClient(), TreeEvents, { rootId: root.id, after: "x:y" })).rejects.toThrow(
      /VALIDATION_ERROR/,
    );
    await open("a");
    await open("root");
    await s.apflow.waitForTree(root.id);
    // A finished tree replays everything and completes at once.
    const replay = await collect<TreeEventsSubscription>(s.wsClient(), TreeEvents, { rootId: root.id, after: "3" });
    expect(replay[0]!.taskTreeEvents.seq).toBe(4);
  });
});
