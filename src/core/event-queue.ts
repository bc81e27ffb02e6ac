/**
 * Turns one tree's events on the bus into an async iterator for a subscription.
 * It is subscribed before the subscription reads anything from storage, so nothing
 * published meanwhile is missed. A subscriber that falls too far behind is ended
 * with an error saying how to resume, instead of growing memory without bound.
 */
import { ApflowError, ErrorCode } from "./errors.js";
import type { EventBus } from "./ports.js";
import type { TaskEvent } from "./types.js";

export const MAX_BUFFERED_EVENTS = 10_000;

export class EventQueue implements AsyncIterableIterator<TaskEvent> {
  private readonly buffer: TaskEvent[] = [];
  private waiter: { resolve: (r: IteratorResult<TaskEvent>) => void; reject: (e: unknown) => void } | null = null;
  private failure: unknown = null;
  private done = false;
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus, treeId: string) {
    this.unsubscribe = bus.subscribe(treeId, (event) => this.push(event));
  }

  /** The oldest event received and not yet taken, left in the queue; none once the queue failed. */
  peek(): TaskEvent | undefined {
    return this.failure ? undefined : this.buffer[0];
  }

  /** Removes the oldest event received and not yet taken (the one `peek` shows). */
  drop(): void {
    this.buffer.shift();
  }

  next(): Promise<IteratorResult<TaskEvent>> {
    if (this.failure) return Promise.reject(this.failure);
    const event = this.buffer.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<TaskEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<TaskEvent> {
    return this;
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.unsubscribe();
    this.buffer.length = 0;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.resolve({ value: undefined, done: true });
  }

  private push(event: TaskEvent): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter.resolve({ value: event, done: false });
      return;
    }
    if (this.buffer.length >= MAX_BUFFERED_EVENTS) {
      this.failure = new ApflowError(
        ErrorCode.SUBSCRIBER_TOO_SLOW,
        `the subscriber fell more than ${MAX_BUFFERED_EVENTS} events behind; subscribe again with "after" set to the id of the last event received`,
      );
      this.unsubscribe();
      this.done = true;
      return;
    }
    this.buffer.push(event);
  }
}
