/**
 * Many subscribers on one tree over real WebSockets, with results shared between
 * them and written straight to the sockets (src/graphql/fan-out.ts,
 * src/server/subscription-delivery.ts): each stream stays complete, in order and
 * shaped by its own selection; a client that stops reading or leaves holds up
 * nobody else.
 */
import { once } from "node:events";
import { print } from "graphql";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { FullEventsSubscription } from "../../src/client/gql/graphql.js";
import { graphql } from "../../src/client/gql/index.js";
import type { TaskSpec } from "../../src/core/tree-plan.js";
import { eventually } from "../support/harness.js";
import { collect, subscribe, useTestServer } from "../support/server.js";
import { newProbe, testExecutors } from "../support/test-executors.js";

const EventSeqs = print(
  graphql(`
    subscription EventSeqs($rootId: ID!, $after: ID) {
      taskTreeEvents(rootId: $rootId, after: $after) {
        seq
        type
      }
    }
  `),
);

const EventInputs = print(
  graphql(`
    subscription EventInputs($rootId: ID!) {
      taskTreeEvents(rootId: $rootId) {
        seq
        task {
          inputs
        }
      }
    }
  `),
);

const FullEvents = print(
  graphql(`
    subscription FullEvents($rootId: ID!, $after: ID) {
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

type SeqEvent = { seq: number; type: string };

/** A graphql-transport-ws client by hand, so that the test can stop reading its socket. */
async function rawSubscriber(url: string, query: string, variables: Record<string, unknown>) {
  const ws = new WebSocket(url, "graphql-transport-ws");
  const messages: { type: string; id?: string; payload?: { data?: unknown } }[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data))));
  await once(ws, "open");
  ws.send(JSON.stringify({ type: "connection_init" }));
  await eventually(() => messages.some((m) => m.type === "connection_ack"));
  ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
  return { ws, messages };
}

describe("subscription fan-out over WebSockets", () => {
  const probe = newProbe();
  const s = useTestServer("pglite", { apflow: { executors: testExecutors(probe) } });

  it("gives subscribers with different selections and cursors each its own complete, ordered stream", async () => {
    const root = await s.apflow.createTree(
      [
        { name: "sel-root", executor: "gate", dependencies: ["sel-a", "sel-b"] },
        { name: "sel-a", executor: "noop", parentId: "sel-root" },
        { name: "sel-b", executor: "progress", parentId: "sel-root", dependencies: ["sel-a"] },
      ],
      { execute: true },
    );
    const full = collect<FullEventsSubscription>(s.wsClient(), FullEvents, { rootId: root.id });
    const fromStart = collect<{ taskTreeEvents: SeqEvent }>(s.wsClient(), EventSeqs, { rootId: root.id });
    const fromThird = collect<{ taskTreeEvents: SeqEvent }>(s.wsClient(), EventSeqs, {
      rootId: root.id,
      after: `${root.id}:3`,
    });
    // A second subscription on the same connection as the first.
    const sameConnection = s.wsClient();
    const twin = collect<{ taskTreeEvents: SeqEvent }>(sameConnection, EventSeqs, { rootId: root.id });
    const twinFull = collect<FullEventsSubscription>(sameConnection, FullEvents, { rootId: root.id, after: "1" });
    await eventually(() => probe.gates.has("sel-root"), 10_000);
    // One more, joining while the tree runs, from the middle of the history.
    const stored = await s.apflow.events(root.id);
    const joining = collect<{ taskTreeEvents: SeqEvent }>(s.wsClient(), EventSeqs, {
      rootId: root.id,
      after: String(stored.length - 2),
    });
    probe.gates.get("sel-root")!();

    await s.apflow.waitForTree(root.id);
    const all = await s.apflow.events(root.id);
    const seqs = all.map((e) => e.seq);
    const fullEvents = (await full).map((v) => v.taskTreeEvents);
    expect(fullEvents.map((e) => e.seq)).toEqual(seqs);
    expect(fullEvents.map((e) => e.id)).toEqual(all.map((e) => `${root.id}:${e.seq}`));
    expect(fullEvents.at(-1)).toMatchObject({ type: "COMPLETED", status: "COMPLETED", task: { name: "sel-root" } });
    const names = new Map((await s.apflow.listTasks({ treeId: root.id })).map((t) => [t.id, t.name]));
    expect(fullEvents.map((e) => e.task.name)).toEqual(all.map((e) => names.get(e.taskId)));

    const seqsOf = async (stream: Promise<{ taskTreeEvents: SeqEvent }[]>) =>
      (await stream).map((v) => v.taskTreeEvents);
    const expected = all.map((e) => ({ seq: e.seq, type: e.type.toUpperCase() }));
    expect(await seqsOf(fromStart)).toEqual(expected);
    expect(await seqsOf(twin)).toEqual(expected);
    expect(await seqsOf(fromThird)).toEqual(expected.slice(3));
    expect(await seqsOf(joining)).toEqual(expected.slice(stored.length - 2));
    expect((await twinFull).map((v) => v.taskTreeEvents.seq)).toEqual(seqs.slice(1));
    // Only the fields asked for.
    expect(Object.keys((await fromStart)[0]!.taskTreeEvents).sort()).toEqual(["seq", "type"]);
  });

  it("lets a client that stops reading fall behind alone, then delivers it everything in order", async () => {
    // Events of about 256 KB each (the task's inputs), far more than the socket
    // buffers and the server's send buffer hold while the client does not read.
    const big = "x".repeat(256 * 1024);
    const children = Array.from({ length: 12 }, (_, i) => `slow-${i}`);
    const specs: TaskSpec[] = [
      { name: "slow-root", executor: "noop", dependencies: children },
      ...children.map((name) => ({ name, executor: "noop", parentId: "slow-root", inputs: { big } })),
    ];
    const root = await s.apflow.createTree(specs);
    const paused = await rawSubscriber(s.app.wsUrl, EventInputs, { rootId: root.id });
    paused.ws.pause();
    const reader = subscribe<{ taskTreeEvents: { seq: number } }>(s.wsClient(), EventInputs, { rootId: root.id });
    await reader.received(specs.length); // replayed the "created" events
    await s.apflow.executeTask(root.id);

    await s.apflow.waitForTree(root.id);
    const seqs = (await s.apflow.events(root.id)).map((e) => e.seq);
    expect((await reader.done).map((v) => v.taskTreeEvents.seq)).toEqual(seqs);
    expect(paused.messages.some((m) => m.type === "complete")).toBe(false);

    paused.ws.resume();
    await eventually(() => paused.messages.some((m) => m.type === "complete"), 20_000);
    const delivered = paused.messages.filter((m) => m.type === "next");
    expect(delivered.map((m) => (m.payload!.data as { taskTreeEvents: { seq: number } }).taskTreeEvents.seq)).toEqual(
      seqs,
    );
    paused.ws.close();
  });

  it("stops writing to a subscription its client completed, while the others go on", async () => {
    const root = await s.apflow.createTree(
      [
        { name: "leave-root", executor: "gate", dependencies: ["leave-a"] },
        { name: "leave-a", executor: "gate", parentId: "leave-root" },
      ],
      { execute: true },
    );
    const leaving = await rawSubscriber(s.app.wsUrl, EventSeqs, { rootId: root.id });
    const staying = collect<{ taskTreeEvents: SeqEvent }>(s.wsClient(), EventSeqs, { rootId: root.id });
    await eventually(() => probe.gates.has("leave-a"), 10_000);
    const started = (m: (typeof leaving.messages)[number]) =>
      (m.payload?.data as { taskTreeEvents?: SeqEvent } | undefined)?.taskTreeEvents?.type === "STARTED";
    await eventually(() => leaving.messages.some(started));
    leaving.ws.send(JSON.stringify({ id: "1", type: "complete" }));
    // A ping after the complete: once its pong is back, the server has handled the complete.
    leaving.ws.send(JSON.stringify({ type: "ping" }));
    await eventually(() => leaving.messages.some((m) => m.type === "pong"));
    const before = leaving.messages.length;
    probe.gates.get("leave-a")!();
    await eventually(() => probe.gates.has("leave-root"), 10_000);
    probe.gates.get("leave-root")!();
    await s.apflow.waitForTree(root.id);
    const events = await s.apflow.events(root.id);
    expect((await staying).map((v) => v.taskTreeEvents.seq)).toEqual(events.map((e) => e.seq));
    expect(leaving.messages.slice(before)).toEqual([]);
    leaving.ws.close();
  });
});
