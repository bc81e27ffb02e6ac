/**
 * TaskEvent: one stored status change. The same shape serves history queries
 * (read with Prisma) and live subscriptions (from the event bus).
 */
import type { TaskEvent } from "../core/types.js";
import type { TaskEvent as TaskEventRow } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { TaskEventTypeEnum, TaskStatusEnum } from "./task-status.js";

/** Event id as clients see it: "<treeId>:<seq>", unique and usable as a resume cursor. */
export function eventId(event: Pick<TaskEvent, "treeId" | "seq">): string {
  return `${event.treeId}:${event.seq}`;
}

/** The seq of a cursor given as "<treeId>:<seq>" or a bare "<seq>"; null when unparsable. */
export function seqOfCursor(cursor: string): number | null {
  const seq = Number(cursor.slice(cursor.lastIndexOf(":") + 1));
  return Number.isInteger(seq) && seq >= 0 ? seq : null;
}

export function toEventShape(row: TaskEventRow): TaskEvent {
  return {
    treeId: row.treeId,
    seq: Number(row.seq),
    taskId: row.taskId,
    type: row.type as TaskEvent["type"],
    status: row.status as TaskEvent["status"],
    progress: row.progress,
    attempt: row.attempt,
    message: row.message,
    data: row.data as TaskEvent["data"],
    at: row.at,
  };
}

export const TaskEventRef = builder.objectRef<TaskEvent>("TaskEvent").implement({
  description: "A stored status change of a task. Ids are ordered per tree: pass one as `after` to resume.",
  fields: (t) => ({
    id: t.id({ resolve: (event) => eventId(event) }),
    seq: t.exposeInt("seq", { description: "Position in the tree's event sequence (1, 2, 3... without gaps)." }),
    type: t.field({ type: TaskEventTypeEnum, resolve: (event) => event.type }),
    at: t.expose("at", { type: "DateTime" }),
    status: t.field({ type: TaskStatusEnum, resolve: (event) => event.status }),
    progress: t.exposeFloat("progress"),
    attempt: t.exposeInt("attempt"),
    message: t.exposeString("message", { nullable: true }),
    data: t.field({ type: "JSON", nullable: true, resolve: (event) => event.data }),
  }),
});
