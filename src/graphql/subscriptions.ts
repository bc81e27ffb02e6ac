/**
 * Live updates, fed by the engine's event bus (no database polling): every status
 * change of one task, or every event of a tree with gap-free resume.
 */
import { ApflowError, ErrorCode } from "../core/errors.js";
import { isTerminal, type TaskEvent } from "../core/types.js";
import { builder } from "./builder.js";
import type { Context } from "./context.js";
import { EventQueue } from "./event-queue.js";
import { TaskRef } from "./task.js";
import { seqOfCursor, TaskEventRef } from "./task-event.js";

const REPLAY_PAGE = 500;
const FINAL_TYPES = new Set<TaskEvent["type"]>(["completed", "failed", "cancelled"]);

async function treeOf(ctx: Context, id: string): Promise<string> {
  const task = await ctx.apflow.tasks.getTask(id);
  if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
  return task.treeId;
}

/**
 * Stored events after `afterSeq`, then live ones, in seq order without gaps or
 * repeats, until every task of the tree is terminal.
 */
async function* treeEvents(ctx: Context, treeId: string, afterSeq: number): AsyncGenerator<TaskEvent> {
  const { tasks, bus } = ctx.apflow;
  const queue = new EventQueue(bus, treeId); // before reading storage: nothing slips between
  let last = afterSeq;
  try {
    // Everything stored after the cursor, page by page.
    for (;;) {
      const page = await tasks.events(treeId, last, REPLAY_PAGE);
      for (const event of page) {
        yield event;
        last = event.seq;
      }
      if (page.length < REPLAY_PAGE) break;
    }
    if ((await tasks.openTaskCount(treeId)) === 0) {
      // Finished before or during the replay: the stored events are all there is.
      for (const event of await tasks.events(treeId, last, Number.MAX_SAFE_INTEGER)) yield event;
      return;
    }
    for await (const event of queue) {
      if (event.seq <= last) continue; // already replayed
      if (event.seq > last + 1) {
        // Published out of order (concurrent commits, or another node): fetch the gap from storage.
        for (const missing of await tasks.events(treeId, last, event.seq - last - 1)) {
          yield missing;
          last = missing.seq;
        }
      }
      yield event;
      last = event.seq;
      if (event.treeFinished) return;
    }
  } finally {
    queue.close();
  }
}

builder.subscriptionFields((t) => ({
  taskTreeEvents: t.field({
    type: TaskEventRef,
    description:
      "Every event of the tree: stored ones after `after` (an event id), then live ones; completes when every task of the tree is terminal.",
    args: {
      rootId: t.arg.id({ required: true, description: "The tree's root (any task of the tree is accepted)." }),
      after: t.arg.id({ required: false, description: "Resume after this event id (from a previous event)." }),
    },
    subscribe: async (_root, args, ctx) => {
      let afterSeq = 0;
      if (args.after !== null && args.after !== undefined) {
        const seq = seqOfCursor(String(args.after));
        if (seq === null) {
          throw new ApflowError(
            ErrorCode.VALIDATION_ERROR,
            `after: "${args.after}" is not an event id (like "<treeId>:<seq>")`,
          );
        }
        afterSeq = seq;
      }
      return treeEvents(ctx, await treeOf(ctx, String(args.rootId)), afterSeq);
    },
    resolve: (event) => event,
  }),
  taskStatusChanged: t.field({
    type: TaskRef,
    description: "The task now, then again at every change of its status or progress; completes when it is terminal.",
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const id = String(args.id);
      const queue = new EventQueue(ctx.apflow.bus, await treeOf(ctx, id));
      return (async function* () {
        try {
          const now = await ctx.shared.task.load(id);
          if (!now) return;
          yield now;
          if (isTerminal(now.status as TaskEvent["status"])) return;
          for await (const event of queue) {
            if (event.taskId !== id) continue;
            const task = await ctx.shared.task.load(id);
            if (!task) return;
            yield task;
            if (FINAL_TYPES.has(event.type)) return;
          }
        } finally {
          queue.close();
        }
      })();
    },
    resolve: (task) => task,
  }),
}));
