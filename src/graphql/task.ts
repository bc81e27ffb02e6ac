/**
 * The Task type and what hangs off it: dependencies, dependents, the tree around it,
 * its event history and subtree roll-up. Relations are resolved by plugin-prisma,
 * one statement per nesting level, however many tasks a level holds; dependencies
 * come with the task row itself (its dependency_list column).
 */
import { resolveCursorConnection } from "@pothos/plugin-relay";
import { redactSecrets } from "../core/redact.js";
import type { JsonValue, TaskEvent } from "../core/types.js";
import type { Task as TaskRow } from "../generated/prisma/client.js";
import { assertPageSize, builder, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./builder.js";
import type { Context } from "./context.js";
import type { Rollup } from "./loaders.js";
import { selectsIdOnly } from "./selection.js";
import { eventId, TaskEventRef, toEventShape } from "./task-event.js";
import { TaskStatusEnum } from "./task-status.js";

export const TaskRollupRef = builder.objectRef<Rollup>("TaskRollup").implement({
  description: "Figures over a task and all its descendants.",
  fields: (t) => ({
    total: t.exposeInt("total"),
    pending: t.exposeInt("pending"),
    inProgress: t.exposeInt("inProgress"),
    completed: t.exposeInt("completed"),
    failed: t.exposeInt("failed"),
    cancelled: t.exposeInt("cancelled"),
    progress: t.exposeFloat("progress", {
      description: "0..1: terminal tasks count as done, the others by their own progress.",
    }),
  }),
});

/** One entry of a task's dependency_list column. */
interface DependencyEntry {
  id: string;
  required: boolean;
}

const TaskDependencyRef = builder.objectRef<DependencyEntry>("TaskDependency");

/** The Task columns every read of the type includes (see TaskRef's `select`). */
export const TASK_ALWAYS_SELECTED = {
  id: true,
  name: true,
  status: true,
  progress: true,
  dependencyList: true,
} as const;

export const TaskRef = builder.prismaObject("Task", {
  description: "One unit of work in a task tree.",
  // Select mode: only the columns a query asks for are read (tasks have wide JSON
  // columns; a dashboard listing names and statuses should not load them). The few
  // small columns nearly every query shows are always read: a field with a
  // selection of its own costs plugin-prisma a look-up per row (about 1 µs, paid
  // 1,000 times per field in a 1,000-task tree).
  select: TASK_ALWAYS_SELECTED,
  fields: (t) => ({
    // Always selected (above), so resolved without plugin-prisma's per-row selection lookup.
    id: t.id({ resolve: (task) => task.id }),
    name: t.string({ resolve: (task) => task.name }),
    status: t.field({ type: TaskStatusEnum, resolve: (task) => task.status as never }),
    priority: t.exposeInt("priority", { description: "0 is the most urgent; ready tasks run in ascending order." }),
    progress: t.float({ description: "0..1", resolve: (task) => task.progress }),
    executor: t.exposeString("executor"),
    inputs: t.field({
      type: "JSON",
      description: "Inputs given to the executor; secrets (passwords, tokens, keys) are redacted.",
      select: { inputs: true },
      resolve: (task) => redactSecrets(task.inputs as JsonValue),
    }),
    params: t.field({
      type: "JSON",
      description: "Executor construction options; secrets are redacted.",
      select: { params: true },
      resolve: (task) => redactSecrets(task.params as JsonValue),
    }),
    result: t.field({ type: "JSON", nullable: true, select: { result: true }, resolve: (task) => task.result }),
    error: t.exposeString("error", { nullable: true, description: "The error message of a failed task." }),
    errorCode: t.exposeString("errorCode", { nullable: true, description: "Machine-readable error code." }),
    treeId: t.exposeID("treeId", { description: "Id of the tree's root task." }),
    depth: t.exposeInt("depth", { description: "0 for a root." }),
    parent: t.relation("parent", { nullable: true }),
    children: t.relation("children", { query: { orderBy: [{ position: "asc" }, { id: "asc" }] } }),
    root: t.relation("root"),
    dependencies: t.field({
      type: [TaskDependencyRef],
      description: "What this task waits for, in the order given.",
      // Read with the task itself (its dependency_list column, always selected: a
      // short JSON array), so a tree query spends no statement per level on
      // dependencies, nor a per-row selection look-up.
      resolve: (task) => task.dependencyList as unknown as DependencyEntry[],
    }),
    attempt: t.exposeInt("attempt", { description: "Attempts started so far (1 during the first run)." }),
    maxAttempts: t.exposeInt("maxAttempts"),
    timeoutMs: t.exposeInt("timeoutMs", { nullable: true }),
    idempotencyKey: t.exposeString("idempotencyKey", { nullable: true }),
    originType: t.exposeString("originType", { description: "create, copy, link or archive." }),
    originalTaskId: t.exposeID("originalTaskId", { nullable: true }),
    userId: t.exposeString("userId", { nullable: true }),
    leaseOwner: t.exposeString("leaseOwner", { nullable: true, description: "Node running the task." }),
    leaseExpiresAt: t.expose("leaseExpiresAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    rollup: t.field({
      type: TaskRollupRef,
      description: "Counts by status and overall progress of this task's subtree (itself included).",
      resolve: (task, _args, ctx) => ctx.loaders.rollup.load(task.id),
    }),
    events: t.connection(
      {
        type: TaskEventRef,
        description: "This task's stored events, oldest first.",
        resolve: (task, args, ctx) => {
          assertPageSize(args);
          return resolveCursorConnection<Promise<TaskEvent[]>>(
            {
              args,
              toCursor: (event: TaskEvent) => String(event.seq),
              defaultSize: DEFAULT_PAGE_SIZE,
              maxSize: MAX_PAGE_SIZE,
            },
            async ({ before, after, limit, inverted }) => {
              const rows = await ctx.prisma.taskEvent.findMany({
                where: {
                  taskId: task.id,
                  seq: {
                    ...(after ? { gt: BigInt(after) } : {}),
                    ...(before ? { lt: BigInt(before) } : {}),
                  },
                },
                orderBy: { seq: inverted ? "desc" : "asc" },
                take: limit,
              });
              return rows.map(toEventShape);
            },
          );
        },
      },
      { name: "TaskEventConnection" },
      { name: "TaskEventEdge" },
    ),
  }),
});

builder.prismaObjectField(TaskRef, "dependents", (t) =>
  t.field({
    type: [TaskRef],
    description: "Tasks that depend on this one.",
    select: (_args, _ctx, nestedSelection) => ({
      dependedBy: { orderBy: [{ taskId: "asc" }], select: { task: nestedSelection(true) } },
    }),
    resolve: (task) => task.dependedBy.map((d) => d.task),
  }),
);

// Defined here rather than with TaskEvent, so the two files do not import each other.
builder.objectField(TaskEventRef, "task", (t) =>
  t.field({
    type: TaskRef,
    description: "The task the event is about.",
    resolve: (event, _args, ctx) => loadTask(ctx, event.taskId, `of event ${eventId(event)} `),
  }),
);

TaskDependencyRef.implement({
  description: "A dependency of a task on another task of the same tree.",
  fields: (t) => ({
    task: t.field({
      type: TaskRef,
      description: "The task depended on.",
      // Asked for its id alone, the task is not read: the entry holds it.
      resolve: (dependency, _args, ctx, info) =>
        // Only `id` will be read of it (the other always-selected columns are not asked for).
        selectsIdOnly(info) ? ({ id: dependency.id } as TaskRow) : loadTask(ctx, dependency.id),
    }),
    required: t.exposeBoolean("required", {
      description: "true: its failure fails the dependent; false: the dependent runs anyway once it is done.",
    }),
  }),
});

/** A task named by a row already read, through the loader every request shares (one query per batch). */
async function loadTask(ctx: Context, id: string, whose = ""): Promise<TaskRow> {
  const task = await ctx.shared.task.load(id);
  if (!task) throw new Error(`task ${id} ${whose}no longer exists`);
  return task;
}
