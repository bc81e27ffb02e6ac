/**
 * Live updates, fed by the engine's event bus (no database polling): every status
 * change of one task, or every event of a tree with gap-free resume.
 */
import { ApflowError, ErrorCode } from "../core/errors.js";
import { EventQueue } from "../core/event-queue.js";
import { TreeEventStream } from "../core/tree-event-stream.js";
import { isFinalEvent, isTerminal, type TaskEvent } from "../core/types.js";
import { builder } from "./builder.js";
import type { Context } from "./context.js";
import { TaskRef } from "./task.js";
import { seqOfCursor, TaskEventRef } from "./task-event.js";

async function treeOf(ctx: Context, id: string): Promise<string> {
  // The loader every subscription shares: a reconnecting crowd looks its task up in one query.
  const task = await ctx.shared.task.load(id);
  if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
  return task.treeId;
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
      const { tasks, bus } = ctx.apflow;
      return new TreeEventStream(tasks, bus, await treeOf(ctx, String(args.rootId)), afterSeq);
    },
    // The event as it is: shared execution (fan-out.ts) relies on the root
    // field's arguments choosing the stream only.
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
            if (isFinalEvent(event)) return;
          }
        } finally {
          queue.close();
        }
      })();
    },
    resolve: (task) => task, // as it is (see taskTreeEvents)
  }),
}));
