/** Reading tasks: one by id, or a filtered, ordered, paginated connection. */
import type { Prisma } from "../generated/prisma/client.js";
import { assertPageSize, builder } from "./builder.js";
import { TaskRef } from "./task.js";
import { TaskStatusEnum } from "./task-status.js";

const TaskFilter = builder.inputType("TaskFilter", {
  description: "Every given condition must hold.",
  fields: (t) => ({
    status: t.field({ type: [TaskStatusEnum], required: false, description: "Any of these statuses." }),
    executor: t.string({ required: false }),
    rootOnly: t.boolean({ required: false, description: "Only roots of trees." }),
    parentId: t.id({ required: false }),
    treeId: t.id({ required: false }),
    name: t.string({ required: false, description: "Exact name." }),
    nameContains: t.string({ required: false, description: "Case-insensitive substring of the name." }),
    createdAfter: t.field({ type: "DateTime", required: false, description: "Created at or after." }),
    createdBefore: t.field({ type: "DateTime", required: false, description: "Created strictly before." }),
  }),
});

const TaskOrderField = builder.enumType("TaskOrderField", {
  values: {
    CREATED_AT: { value: "createdAt" },
    UPDATED_AT: { value: "updatedAt" },
    PRIORITY: { value: "priority" },
    NAME: { value: "name" },
  } as const,
});
const OrderDirection = builder.enumType("OrderDirection", {
  values: { ASC: { value: "asc" }, DESC: { value: "desc" } } as const,
});
const TaskOrder = builder.inputType("TaskOrder", {
  fields: (t) => ({
    field: t.field({ type: TaskOrderField, required: true }),
    direction: t.field({ type: OrderDirection, required: true, defaultValue: "desc" }),
  }),
});

/** The page of tasks every task listing returns (Query.tasks, Query.scheduledTasks). */
export const TaskConnection = builder.connectionObject(
  {
    type: TaskRef,
    name: "TaskConnection",
    description: "A page of tasks.",
    fields: (t) => ({
      totalCount: t.int({
        // Tells plugin-prisma that a selection of only this field needs no rows read.
        extensions: { pothosPrismaTotalCount: true },
        resolve: (connection) => {
          const { totalCount } = connection as { totalCount?: number | (() => number | Promise<number>) };
          return typeof totalCount === "function" ? totalCount() : (totalCount ?? 0);
        },
      }),
    }),
  },
  { name: "TaskEdge" },
);

type FilterInput = typeof TaskFilter.$inferInput;

function where(filter: FilterInput | null | undefined): Prisma.TaskWhereInput {
  if (!filter) return {};
  return {
    ...(filter.status?.length ? { status: { in: filter.status } } : {}),
    ...(filter.executor ? { executor: filter.executor } : {}),
    ...(filter.rootOnly ? { parentId: null } : {}),
    ...(filter.parentId ? { parentId: String(filter.parentId) } : {}),
    ...(filter.treeId ? { treeId: String(filter.treeId) } : {}),
    ...(filter.name ? { name: filter.name } : {}),
    ...(filter.nameContains ? { name: { contains: filter.nameContains, mode: "insensitive" as const } } : {}),
    ...(filter.createdAfter || filter.createdBefore
      ? {
          createdAt: {
            ...(filter.createdAfter ? { gte: filter.createdAfter } : {}),
            ...(filter.createdBefore ? { lt: filter.createdBefore } : {}),
          },
        }
      : {}),
  };
}

builder.queryFields((t) => ({
  task: t.prismaField({
    type: "Task",
    nullable: true,
    description: "A task by id, or null when there is none.",
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => ctx.prisma.task.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
  tasks: t.prismaConnection(
    {
      type: TaskRef,
      cursor: "id",
      description: "Tasks matching the filter, newest first unless ordered otherwise.",
      args: {
        filter: t.arg({ type: TaskFilter, required: false }),
        orderBy: t.arg({ type: TaskOrder, required: false }),
      },
      resolve: (query, _root, args, ctx) => {
        assertPageSize(args);
        return ctx.prisma.task.findMany({
          ...query,
          where: where(args.filter),
          orderBy: [{ [args.orderBy?.field ?? "createdAt"]: args.orderBy?.direction ?? "desc" }, { id: "asc" }],
        });
      },
      totalCount: (_connection, args, ctx) => ctx.prisma.task.count({ where: where(args.filter) }),
    },
    TaskConnection,
  ),
}));
