/**
 * Brings other nodes' events to this node's subscribers. Every transaction that
 * stores events sends one NOTIFY naming the trees and their last seq (see
 * storage/sql/append-events.ts); here, for trees someone on this node watches, the
 * new rows are read and published on the local bus, marked `remote`. NOTIFY is a
 * hint: a lost one only delays, because subscribers fill any gap from the table.
 * Every notification also wakes the engine: new work may be ready.
 */
import type { LocalEventBus } from "../core/event-bus.js";
import type { Logger } from "../core/executor.js";
import type { TaskStore } from "../core/ports.js";
import { isFinalEvent } from "../core/types.js";
import { EVENTS_CHANNEL, type NotifiedRange, parseNotification } from "../storage/sql/append-events.js";
import type { Sql } from "../storage/sql.js";

/** Events are read in pages of this size. */
const READ_LIMIT = 500;

export async function relayClusterEvents(options: {
  sql: Sql;
  store: TaskStore;
  bus: LocalEventBus;
  onNotification(): void;
  logger: Logger;
}): Promise<() => Promise<void>> {
  const { store, bus, logger } = options;
  // Per tree: the last seq read from the table, and the seqs beyond it that this node
  // published itself (its own commits). Local events must not advance `seen`: an
  // earlier event committed elsewhere may not have been read yet.
  const seen = new Map<string, number>();
  const local = new Map<string, Set<number>>();
  const queues = new Map<string, Promise<void>>();
  const stopTracking = bus.subscribe("*", (event) => {
    if (event.remote || event.seq <= (seen.get(event.treeId) ?? 0)) return;
    const mine = local.get(event.treeId) ?? new Set<number>();
    mine.add(event.seq);
    local.set(event.treeId, mine);
  });

  const catchUp = async (treeId: string, range: NotifiedRange | null) => {
    // Page through everything new: one transaction may have stored thousands of events.
    for (;;) {
      // A tree first heard of starts at the notified range: earlier events are history,
      // not news (subscribers replay history from the table themselves). Without a
      // range ("*" after a lost connection) there is no safe start: skip it.
      const from = seen.get(treeId) ?? (range ? range.first - 1 : undefined);
      if (from === undefined) return;
      const upTo = range?.last ?? null;
      if (upTo !== null && from >= upTo) return;
      const events = await store.listEvents(treeId, from, READ_LIMIT);
      if (events.length === 0) return;
      const last = events.at(-1)!;
      const complete = events.length < READ_LIMIT || (upTo !== null && last.seq >= upTo);
      if (complete && isFinalEvent(last) && (await store.openTaskCount(treeId)) === 0) last.treeFinished = true;
      const mine = local.get(treeId);
      const fresh = events.filter((e) => !mine?.delete(e.seq));
      seen.set(treeId, last.seq);
      if (mine) for (const seq of mine) if (seq <= last.seq) mine.delete(seq);
      bus.publish(fresh.map((e) => ({ ...e, remote: true })));
      if (complete) return;
    }
  };
  // One catch-up at a time per tree, in order.
  const schedule = (treeId: string, range: NotifiedRange | null) => {
    const previous = queues.get(treeId) ?? Promise.resolve();
    const next = previous
      .then(() => catchUp(treeId, range))
      .catch((error: unknown) => logger.warn("relaying events failed", { tree: treeId, error }))
      .finally(() => {
        if (queues.get(treeId) === next) queues.delete(treeId);
      });
    queues.set(treeId, next);
  };
  const watched = new Set<string>();
  const onMessage = (payload: string) => {
    options.onNotification();
    const trees = parseNotification(payload);
    watched.clear();
    for (const id of bus.watchedTrees()) watched.add(id);
    // Bound the memory: forget trees nobody here watches any more.
    for (const id of local.keys()) if (!watched.has(id)) local.delete(id);
    if (seen.size > 10_000) for (const id of seen.keys()) if (!watched.has(id)) seen.delete(id);
    if (trees === "*") {
      for (const treeId of watched) schedule(treeId, null);
      return;
    }
    for (const range of trees) if (watched.has(range.treeId)) schedule(range.treeId, range);
  };
  // After a lost connection, notifications may have been missed: catch up on everything watched.
  const onReconnect = () => onMessage('"*"');
  const stopListening = await options.sql.listen(EVENTS_CHANNEL, onMessage, onReconnect);
  return async () => {
    stopTracking();
    await stopListening();
  };
}
