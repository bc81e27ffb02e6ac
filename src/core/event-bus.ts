/**
 * In-process fan-out of committed events. Stores publish only after commit, so a
 * listener never sees an event that could still roll back. Listeners are keyed by
 * tree, so 1,000 dashboards on one tree do not cost every other tree anything.
 */
import type { EventBus, EventListener } from "./ports.js";
import type { TaskEvent } from "./types.js";

export class LocalEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<EventListener>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  publish(events: readonly TaskEvent[]): void {
    if (events.length === 0) return;
    const everything = this.listeners.get("*");
    for (const event of events) {
      const forTree = this.listeners.get(event.treeId);
      if (forTree) this.deliver(forTree, event);
      if (everything) this.deliver(everything, event);
    }
  }

  subscribe(treeId: string, listener: EventListener): () => void {
    let set = this.listeners.get(treeId);
    if (!set) {
      set = new Set();
      this.listeners.set(treeId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(treeId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(treeId);
    };
  }

  /** Trees that have listeners of their own (not counting "*" listeners). */
  watchedTrees(): string[] {
    return [...this.listeners.keys()].filter((key) => key !== "*");
  }

  private deliver(listeners: Set<EventListener>, event: TaskEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
