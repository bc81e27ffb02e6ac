/**
 * The source of one `taskTreeEvents` subscription: the tree's stored events after
 * a cursor, then its live ones, in seq order without gaps or repeats, until every
 * task of the tree is terminal.
 *
 * Besides the usual one-event-at-a-time `next()`, it hands over with
 * `takeReady()` the live events already queued that follow on without a gap. One
 * engine transaction often publishes dozens of events at once (a tree queued, a
 * batch of tasks started); delivering them to 1,000 subscribers one awaited step
 * at a time cost more than everything else together.
 */

import { EventQueue } from "./event-queue.js";
import type { EventBus } from "./ports.js";
import type { TaskService } from "./task-service.js";
import type { TaskEvent } from "./types.js";

const REPLAY_PAGE = 500;

export class TreeEventStream implements AsyncIterableIterator<TaskEvent> {
  private readonly queue: EventQueue;
  private readonly events: AsyncGenerator<TaskEvent>;
  /** The seq of the last event handed out. */
  private last: number;
  /** The generator waits at a live event's yield: `takeReady` may hand out what follows. */
  private atLiveYield = false;
  /** The tree's last event has been handed out. */
  private finished = false;

  constructor(
    private readonly tasks: Pick<TaskService, "events" | "openTaskCount">,
    bus: EventBus,
    private readonly treeId: string,
    afterSeq: number,
  ) {
    this.queue = new EventQueue(bus, treeId); // before reading storage: nothing slips between
    this.last = afterSeq;
    this.events = this.run();
  }

  next(): Promise<IteratorResult<TaskEvent>> {
    return this.events.next();
  }

  /** Ends the stream, at once even while it waits for the next live event. */
  return(): Promise<IteratorResult<TaskEvent>> {
    this.queue.close();
    return this.events.return(undefined);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TaskEvent> {
    return this;
  }

  /**
   * The queued live events that follow the last one handed out without a gap, in
   * order (none while the stream is replaying or filling a gap from storage).
   */
  takeReady(): TaskEvent[] {
    const taken: TaskEvent[] = [];
    if (!this.atLiveYield) return taken;
    for (let event = this.queue.peek(); event && !this.finished; event = this.queue.peek()) {
      if (event.seq > this.last + 1) break; // a gap: next() reads it from storage
      this.queue.drop();
      if (event.seq <= this.last) continue; // replayed already
      this.last = event.seq;
      this.finished = event.treeFinished === true;
      taken.push(event);
    }
    return taken;
  }

  private async *run(): AsyncGenerator<TaskEvent> {
    const { tasks, treeId } = this;
    try {
      // Everything stored after the cursor, page by page.
      for (;;) {
        const page = await tasks.events(treeId, this.last, REPLAY_PAGE);
        for (const event of page) {
          this.last = event.seq;
          yield event;
        }
        if (page.length < REPLAY_PAGE) break;
      }
      if ((await tasks.openTaskCount(treeId)) === 0) {
        // Finished before or during the replay: the stored events are all there is.
        for (const event of await tasks.events(treeId, this.last, Number.MAX_SAFE_INTEGER)) {
          this.last = event.seq;
          yield event;
        }
        return;
      }
      while (!this.finished) {
        const { value: event, done } = await this.queue.next();
        if (done) return;
        if (event.seq <= this.last) continue; // already replayed
        if (event.seq > this.last + 1) {
          // Published out of order (concurrent commits, or another node): fetch the gap from storage.
          for (const missing of await tasks.events(treeId, this.last, event.seq - this.last - 1)) {
            this.last = missing.seq;
            yield missing;
          }
        }
        this.last = event.seq;
        this.finished = event.treeFinished === true;
        this.atLiveYield = true;
        try {
          yield event;
        } finally {
          this.atLiveYield = false;
        }
      }
    } finally {
      this.queue.close();
    }
  }
}
