/**
 * Writing tasks. Every mutation goes through the engine's TaskService (validation,
 * state machine, events), then reads the result back with the caller's selection.
 */
import { builder } from "./builder.js";
import type { Context } from "./context.js";

const DependencyInput = builder.inputType("DependencyInput", {
  fields: (t) => ({
    id: t.string({ required: true, description: "Id or name of a task of the same request (or tree)." }),
    required: t.boolean({ required: false, defaultValue: true }),
  }),
});

const PlacementInput = builder.inputType("PlacementInput", {
  description: "Which nodes may run the task; every given condition must hold.",
  fields: (t) => ({
    executors: t.stringList({ required: false, description: "Executors the node must have." }),
    tags: t.stringList({ required: false, description: "Capability tags the node must have (APFLOW_NODE_TAGS)." }),
    allowNodes: t.stringList({ required: false, description: "Only these node ids." }),
    forbidNodes: t.stringList({ required: false, description: "Never these node ids." }),
  }),
});

const TaskInput = builder.inputType("TaskInput", {
  description: "One task of a tree, in apflow's flat format.",
  fields: (t) => ({
    id: t.id({ required: false, description: "Omit to get a generated id." }),
    name: t.string({ required: true, description: "Unique within the request." }),
    executor: t.string({ required: true, description: "Executor id, e.g. rest_executor (see Query.executors)." }),
    inputs: t.field({ type: "JSON", required: false }),
    params: t.field({ type: "JSON", required: false }),
    priority: t.int({ required: false, description: "0 is the most urgent; default 2." }),
    parentId: t.string({ required: false, description: "Id or name of the parent; omit for the root." }),
    dependencies: t.field({ type: [DependencyInput], required: false }),
    maxAttempts: t.int({ required: false, description: "Attempts before the task fails; default 1." }),
    timeoutMs: t.int({ required: false }),
    idempotencyKey: t.string({ required: false, description: "A completed task with this key never runs again." }),
    placement: t.field({ type: PlacementInput, required: false }),
  }),
});

const CreateTaskTreeInput = builder.inputType("CreateTaskTreeInput", {
  fields: (t) => ({
    tasks: t.field({ type: [TaskInput], required: true }),
    execute: t.boolean({ required: false, defaultValue: false, description: "Start running it at once." }),
  }),
});

const UpdateTaskInput = builder.inputType("UpdateTaskInput", {
  description: "Editable fields of a task that is not running. Omitted fields stay as they are.",
  fields: (t) => ({
    name: t.string({ required: false }),
    inputs: t.field({ type: "JSON", required: false }),
    params: t.field({ type: "JSON", required: false }),
    priority: t.int({ required: false }),
    maxAttempts: t.int({ required: false }),
    timeoutMs: t.int({ required: false, description: "null removes the timeout." }),
  }),
});

/** GraphQL sends null for explicit nulls; the engine's validation treats absent fields as defaults. */
function withoutNulls<T extends object>(value: T, keepNull: string[] = []): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => v !== null || keepNull.includes(k))) as Partial<T>;
}

/** Reads a task back with the caller's nested selection. */
export function reload(ctx: Context, query: object, id: string) {
  return ctx.prisma.task.findUniqueOrThrow({ ...query, where: { id } });
}

builder.mutationFields((t) => ({
  createTaskTree: t.prismaField({
    type: "Task",
    description: "Creates one task tree (all-or-nothing) and returns its root.",
    args: { input: t.arg({ type: CreateTaskTreeInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const tasks = input.tasks.map((task) => ({
        ...withoutNulls(task),
        ...(task.dependencies ? { dependencies: task.dependencies.map((d) => withoutNulls(d)) } : {}),
        ...(task.placement ? { placement: withoutNulls(task.placement) } : {}),
      }));
      const root = await ctx.apflow.tasks.createTree(tasks, { execute: input.execute ?? false });
      return reload(ctx, query, root.id);
    },
  }),
  executeTask: t.prismaField({
    type: "Task",
    description: "Runs the task's subtree and the dependencies it needs; rerunAll re-runs completed tasks too.",
    args: { id: t.arg.id({ required: true }), rerunAll: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: async (query, _root, args, ctx) => {
      const task = await ctx.apflow.tasks.execute(String(args.id), { rerunAll: args.rerunAll ?? false });
      return reload(ctx, query, task.id);
    },
  }),
  cancelTask: t.prismaField({
    type: "Task",
    description: "Cancels the task, its descendants and required dependents; running executors are stopped.",
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: false }) },
    resolve: async (query, _root, args, ctx) => {
      const task = await ctx.apflow.tasks.cancel(String(args.id), args.reason ?? undefined);
      return reload(ctx, query, task.id);
    },
  }),
  updateTask: t.prismaField({
    type: "Task",
    description: "Changes editable fields of a task that is not running.",
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateTaskInput, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const task = await ctx.apflow.tasks.update(String(args.id), withoutNulls(args.input, ["timeoutMs"]));
      return reload(ctx, query, task.id);
    },
  }),
  deleteTask: t.boolean({
    description: "Deletes a subtree whose tasks are all pending.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.apflow.tasks.delete(String(args.id)),
  }),
  copyTask: t.prismaField({
    type: "Task",
    description: "Copies the task's subtree into a new independent tree (new ids, statuses reset).",
    args: { id: t.arg.id({ required: true }), execute: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: async (query, _root, args, ctx) => {
      const copy = await ctx.apflow.tasks.copy(String(args.id), { execute: args.execute ?? false });
      return reload(ctx, query, copy.id);
    },
  }),
}));
