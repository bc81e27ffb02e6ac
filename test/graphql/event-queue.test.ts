/**
 * The per-subscription event queue: events in order, and a bound on how far a
 * subscriber may fall behind (a stalled WebSocket client ends up here: its
 * deliveries wait for the socket, and its queue fills).
 */
import { describe, expect, it } from "vitest";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { EventQueue, MAX_BUFFERED_EVENTS } from "../../src/core/event-queue.js";
import { progressEvent } from "../support/events.js";

describe("EventQueue", () => {
  it("hands out the tree's events in order, buffered or awaited", async () => {
    const bus = new LocalEventBus();
    const queue = new EventQueue(bus, "tree");
    bus.publish([progressEvent(1), progressEvent(2), { ...progressEvent(9), treeId: "other" }]);
    expect((await queue.next()).value?.seq).toBe(1);
    expect((await queue.next()).value?.seq).toBe(2);
    const third = queue.next(); // waits
    bus.publish([progressEvent(3)]);
    expect((await third).value?.seq).toBe(3);
    queue.close();
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it("ends a subscriber that falls too far behind with SUBSCRIBER_TOO_SLOW, saying how to resume", async () => {
    const bus = new LocalEventBus();
    const queue = new EventQueue(bus, "tree");
    bus.publish(Array.from({ length: MAX_BUFFERED_EVENTS + 1 }, (_, i) => progressEvent(i + 1)));
    await expect(queue.next()).rejects.toMatchObject({
      code: "SUBSCRIBER_TOO_SLOW",
      message: expect.stringContaining('"after"'),
    });
  });
});
