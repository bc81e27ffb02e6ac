/**
 * The per-subscription event queue: events in order, and a bound on how far a
 * subscriber may fall behind (a stalled WebSocket client ends up here: its
 * deliveries wait for the socket, and its queue fills).
 */
import { describe, expect, it } from "vitest";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { EventQueue, MAX_BUFFERED_EVENTS } from "../../src/core/event-queue.js";
import type { TaskEvent } from "../../src/core/types.js";

const event = (seq: number): TaskEvent => ({
  treeId: "tree",
  seq,
  taskId: "task",
  type: "progress",
  status: "in_progress",
  progress: 0,
  attempt: 1,
  message: null,
  data: null,
  at: new Date(0),
});

describe("EventQueue", () => {
  it("hands out the tree's events in order, buffered or awaited", async () => {
    const bus = new LocalEventBus();
    const queue = new EventQueue(bus, "tree");
    bus.publish([event(1), event(2), { ...event(9), treeId: "other" }]);
    expect((await queue.next()).value?.seq).toBe(1);
    expect((await queue.next()).value?.seq).toBe(2);
    const third = queue.next(); // waits
    bus.publish([event(3)]);
    expect((await third).value?.seq).toBe(3);
    queue.close();
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it("ends a subscriber that falls too far behind with SUBSCRIBER_TOO_SLOW, saying how to resume", async () => {
    const bus = new LocalEventBus();
    const queue = new EventQueue(bus, "tree");
    bus.publish(Array.from({ length: MAX_BUFFERED_EVENTS + 1 }, (_, i) => event(i + 1)));
    await expect(queue.next()).rejects.toMatchObject({
      code: "SUBSCRIBER_TOO_SLOW",
      message: expect.stringContaining('"after"'),
    });
  });
});
