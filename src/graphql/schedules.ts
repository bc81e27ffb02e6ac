/**
 * Schedules in GraphQL: `Task.schedule`, `Query.scheduledTasks` and
 * `Query.schedulesICal`, and the mutations that set, enable, disable, clear and
 * trigger a schedule. Every write goes through the ScheduleService (apflow.schedules).
 */
import { queryFromInfo } from "@pothos/plugin-prisma";
import { describeSchedule, SCHEDULE_TYPES, type ScheduleType } from "../core/schedule/index.js";
import { scheduleCursor } from "../core/schedule-service.js";
import { MISSED_RUN_POLICIES, type MissedRunPolicy, type TaskSchedule } from "../core/types.js";
import type { Task as TaskRow } from "../generated/prisma/client.js";
import { assertPageSize, builder, DEFAULT_PAGE_SIZE } from "./builder.js";
import { TASK_ALWAYS_SELECTED, TaskRef } from "./task.js";
import { reload } from "./task-mutations.js";
import { TaskConnection } from "./task-queries.js";

const ScheduleTypeEnum = builder.enumType("ScheduleType", {
  description:
    'ONCE: an ISO date-time; INTERVAL: seconds ("3600") or "90s", "15m", "2h", "1d"; CRON: five fields or a macro ' +
    '("0 9 * * 1-5", "@daily"); DAILY: "09:00" or "09:00,17:30"; WEEKLY: "1-5 08:30" (1 = Monday ... 7 = Sunday) ' +
    'or "mon,wed 09:00"; MONTHLY: "1,15 09:00" or "L 18:00" (L = the last day).',
  values: Object.fromEntries(SCHEDULE_TYPES.map((s) => [s.toUpperCase(), { value: s }])) as Record<
    Uppercase<ScheduleType>,
    { value: ScheduleType }
  >,
});

const MissedRunPolicyEnum = builder.enumType("MissedRunPolicy", {
  description: "Runs missed while no node was up: RUN_ONCE makes one catch-up run, SKIP waits for the next time.",
  values: Object.fromEntries(MISSED_RUN_POLICIES.map((s) => [s.toUpperCase(), { value: s }])) as Record<
    Uppercase<MissedRunPolicy>,
    { value: MissedRunPolicy }
  >,
});

const TaskScheduleRef = builder.objectRef<TaskSchedule>("TaskSchedule").implement({
  description: "When a root task's tree runs by itself, and how many times it has.",
  fields: (t) => ({
    type: t.field({ type: ScheduleTypeEnum, resolve: (schedule) => schedule.type }),
    expression: t.exposeString("expression", { description: "Its format depends on the type (see ScheduleType)." }),
    timezone: t.exposeString("timezone", { description: "IANA zone the wall-clock times are read in." }),
    enabled: t.exposeBoolean("enabled"),
    startAt: t.expose("startAt", { type: "DateTime", nullable: true, description: "No run before it." }),
    endAt: t.expose("endAt", { type: "DateTime", nullable: true, description: "No run after it." }),
    nextRunAt: t.expose("nextRunAt", {
      type: "DateTime",
      nullable: true,
      description: "Null while disabled, or once finished (maxRuns reached, endAt passed).",
    }),
    lastRunAt: t.expose("lastRunAt", { type: "DateTime", nullable: true }),
    maxRuns: t.exposeInt("maxRuns", { nullable: true }),
    runCount: t.exposeInt("runCount", {
      description: "Runs made since the schedule was set, triggered ones included.",
    }),
    missedRuns: t.field({
      type: MissedRunPolicyEnum,
      nullable: true,
      description: "Null: the node's APFLOW_SCHEDULE_MISSED_RUNS.",
      resolve: (schedule) => schedule.missedRuns,
    }),
    description: t.string({
      description: 'In words, e.g. "every day at 09:00 (Europe/Berlin)".',
      resolve: (schedule) => describeSchedule(schedule),
    }),
  }),
});

type ScheduleColumns = Pick<
  TaskRow,
  | "scheduleType"
  | "scheduleExpr"
  | "scheduleTz"
  | "scheduleEnabled"
  | "scheduleStartAt"
  | "scheduleEndAt"
  | "nextRunAt"
  | "lastRunAt"
  | "maxRuns"
  | "runCount"
  | "scheduleMissedRuns"
>;

function scheduleOfRow(row: ScheduleColumns): TaskSchedule | null {
  if (row.scheduleType === null || row.scheduleExpr === null) return null;
  return {
    type: row.scheduleType as ScheduleType,
    expression: row.scheduleExpr,
    timezone: row.scheduleTz ?? "UTC",
    enabled: row.scheduleEnabled,
    startAt: row.scheduleStartAt,
    endAt: row.scheduleEndAt,
    maxRuns: row.maxRuns,
    nextRunAt: row.nextRunAt,
    lastRunAt: row.lastRunAt,
    runCount: row.runCount,
    missedRuns: row.scheduleMissedRuns as MissedRunPolicy | null,
  };
}

builder.prismaObjectField(TaskRef, "schedule", (t) =>
  t.field({
    type: TaskScheduleRef,
    nullable: true,
    description: "When the tree runs by itself (root tasks only); null without a schedule.",
    select: {
      scheduleType: true,
      scheduleExpr: true,
      scheduleTz: true,
      scheduleEnabled: true,
      scheduleStartAt: true,
      scheduleEndAt: true,
      nextRunAt: true,
      lastRunAt: true,
      maxRuns: true,
      runCount: true,
      scheduleMissedRuns: true,
    },
    resolve: (task) => scheduleOfRow(task),
  }),
);

const ScheduleInputRef = builder.inputType("ScheduleInput", {
  description: "A schedule; setting one replaces the task's previous schedule and starts its run count from 0.",
  fields: (t) => ({
    type: t.field({ type: ScheduleTypeEnum, required: true }),
    expression: t.string({ required: true, description: "Its format depends on the type (see ScheduleType)." }),
    timezone: t.string({ required: false, description: 'IANA zone, e.g. "Europe/Berlin"; default UTC.' }),
    enabled: t.boolean({ required: false, description: "Default true." }),
    startAt: t.field({
      type: "DateTime",
      required: false,
      description: "No run before it; an interval counts from it (default: now).",
    }),
    endAt: t.field({ type: "DateTime", required: false, description: "No run after it." }),
    maxRuns: t.int({ required: false, description: "Stop after this many runs." }),
    missedRuns: t.field({
      type: MissedRunPolicyEnum,
      required: false,
      description: "Default: the node's APFLOW_SCHEDULE_MISSED_RUNS.",
    }),
  }),
});

builder.queryFields((t) => ({
  scheduledTasks: t.field({
    type: TaskConnection,
    description: "Root tasks with a schedule, soonest next run first; disabled and finished ones last.",
    args: {
      enabled: t.arg.boolean({ required: false, description: "Only enabled (true) or disabled (false) schedules." }),
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx, info) => {
      assertPageSize(args);
      const size = args.first ?? DEFAULT_PAGE_SIZE;
      const enabled = args.enabled ?? undefined;
      // One more than the page tells whether another page follows.
      const page = await ctx.apflow.schedules.list({
        ...(enabled === undefined ? {} : { enabled }),
        first: size + 1,
        ...(args.after ? { after: args.after } : {}),
      });
      const tasks = page.slice(0, size);
      // The nodes are read once more, with the caller's selection (nested relations included).
      const query = await queryFromInfo({
        context: ctx,
        info,
        typeName: "Task",
        paths: [["edges", "node"]],
        select: TASK_ALWAYS_SELECTED,
        awaitSelections: true,
      });
      const rows = tasks.length
        ? await ctx.prisma.task.findMany({ ...query, where: { id: { in: tasks.map((task) => task.id) } } })
        : [];
      const byId = new Map(rows.map((row) => [row.id, row]));
      // A task deleted between the two reads drops out of the page.
      const edges = tasks.flatMap((task) => {
        const node = byId.get(task.id);
        return node ? [{ cursor: scheduleCursor(task), node }] : [];
      });
      return {
        edges,
        pageInfo: {
          hasNextPage: page.length > size,
          hasPreviousPage: Boolean(args.after),
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
        totalCount: () =>
          ctx.prisma.task.count({
            where: { scheduleType: { not: null }, ...(enabled === undefined ? {} : { scheduleEnabled: enabled }) },
          }),
      };
    },
  }),
  schedulesICal: t.string({
    description: "Every enabled schedule (with includeDisabled, every one) as an iCalendar (RFC 5545) document.",
    args: { includeDisabled: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: (_root, args, ctx) => ctx.apflow.schedules.exportICal({ includeDisabled: args.includeDisabled ?? false }),
  }),
}));

builder.mutationFields((t) => ({
  setTaskSchedule: t.prismaField({
    type: "Task",
    description: "Sets (replaces) the schedule of a root task; every problem of the input is reported at once.",
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: ScheduleInputRef, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const task = await ctx.apflow.schedules.set(String(args.id), args.input);
      return reload(ctx, query, task.id);
    },
  }),
  enableTaskSchedule: t.prismaField({
    type: "Task",
    description: "Enables the task's schedule; its next run is its first time after now.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      reload(ctx, query, (await ctx.apflow.schedules.enable(String(args.id))).id),
  }),
  disableTaskSchedule: t.prismaField({
    type: "Task",
    description: "Disables the task's schedule: it does not run until enabled again.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      reload(ctx, query, (await ctx.apflow.schedules.disable(String(args.id))).id),
  }),
  clearTaskSchedule: t.prismaField({
    type: "Task",
    description: "Removes the task's schedule.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      reload(ctx, query, (await ctx.apflow.schedules.clear(String(args.id))).id),
  }),
  triggerTaskSchedule: t.prismaField({
    type: "Task",
    description:
      "Runs the scheduled tree now: it counts as a run, the next scheduled time stays. CONFLICT while the tree still runs.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) =>
      reload(ctx, query, (await ctx.apflow.schedules.trigger(String(args.id), { source: "manual" })).id),
  }),
}));
