/**
 * `apflow schedule add | list | enable | disable | remove | trigger | export-ical`:
 * a root task's tree run by itself, once, at an interval, by cron, daily, weekly or
 * monthly, in a time zone. The server (or the cluster's leader) runs due schedules.
 */
import { writeFile } from "node:fs/promises";
import { ApflowError, ErrorCode } from "../../core/errors.js";
import { SCHEDULE_TYPES } from "../../core/schedule/index.js";
import { parseDateTime, timeZoneName } from "../../core/schedule/zoned-time.js";
import { MISSED_RUN_POLICIES } from "../../core/types.js";
import type { Command, CommandContext, OptionValues } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import type { Gateway, ScheduleSpec, TaskView } from "../gateway/gateway.js";
import { choiceOption, integerOption, stringOption } from "../option-values.js";
import { renderTable } from "../output/table.js";
import { count, shortTime } from "../output/task-format.js";

/** The schedule's state in one word. */
function state(task: TaskView): string {
  const schedule = task.schedule!;
  if (!schedule.enabled) return "disabled";
  return schedule.nextRunAt === null ? "finished" : "enabled";
}

/** "every day at 09:00 (UTC); next run 2026-11-25 09:00 (in 3 h)" */
function summary(task: TaskView): string {
  const schedule = task.schedule;
  if (!schedule) return `${task.name} (${task.id}) has no schedule.`;
  const next = schedule.nextRunAt ? `next run ${schedule.nextRunAt}` : `no next run (${state(task)})`;
  return `${task.name} (${task.id}): ${schedule.description}; ${next}; ${count(schedule.runCount, "run")} so far.`;
}

/** Prints the task (JSON) or its schedule's summary; reminds that only a server runs schedules. */
function printScheduled(ctx: CommandContext, gateway: Gateway, task: TaskView): ExitCode {
  if (ctx.out.json) {
    ctx.out.printJson(task);
    return ExitCode.OK;
  }
  ctx.out.print(summary(task));
  if (gateway.kind === "embedded" && task.schedule?.enabled) {
    ctx.out.note("Schedules run while a server uses this database: start it with `apflow serve`.");
  }
  return ExitCode.OK;
}

/** --start/--end: with an offset, or a wall-clock time in the schedule's zone; sent as UTC. */
function dateOption(options: OptionValues, flag: string, zone: string): string | undefined {
  const text = stringOption(options, flag);
  if (text === undefined) return undefined;
  const instant = parseDateTime(text, zone);
  if (instant === null) {
    throw new ApflowError(
      ErrorCode.VALIDATION_ERROR,
      `--${flag} ${JSON.stringify(text)}: must be an ISO date-time, e.g. 2026-12-01T09:00 (in --timezone) ` +
        "or 2026-12-01T09:00:00Z.",
    );
  }
  return new Date(instant).toISOString();
}

export const scheduleAddCommand: Command = {
  name: "schedule add",
  summary: "Give a root task a schedule (replacing any it had), so its tree runs by itself",
  args: ["ID", "TYPE", "EXPRESSION"],
  options: {
    timezone: {
      type: "string",
      value: "ZONE",
      description: 'IANA zone of the times, e.g. "Europe/Berlin" (default UTC).',
    },
    start: {
      type: "string",
      value: "DATE",
      description: "No run before it; an interval counts from it (default now).",
    },
    end: { type: "string", value: "DATE", description: "No run after it." },
    "max-runs": { type: "string", value: "N", description: "Stop after N runs." },
    "missed-runs": {
      type: "string",
      value: "POLICY",
      description: "Runs missed while no node was up: run_once or skip (default APFLOW_SCHEDULE_MISSED_RUNS).",
    },
    disabled: { type: "boolean", description: "Set it, but do not run it until `apflow schedule enable`." },
  },
  details: [
    `TYPE is one of ${SCHEDULE_TYPES.join(", ")}. EXPRESSION, by type:`,
    "  once      an ISO date-time             2026-12-01T09:00",
    '  interval  seconds, or 90s 15m 2h 1d     "3600", "15m"',
    '  cron      five fields, or a macro      "0 9 * * 1-5", "@daily"',
    '  daily     HH:MM, or a list              "09:00", "09:00,17:30"',
    '  weekly    days (1 = Monday) and HH:MM  "1-5 08:30", "mon,wed 09:00"',
    '  monthly   dates (L = last) and HH:MM   "1,15 09:00", "L 18:00"',
    "",
    'Example:  apflow schedule add <root id> cron "0 9 * * 1-5" --timezone Europe/Berlin',
  ].join("\n"),
  async run(ctx, { args, options }) {
    const [id, typeText, expression] = args as [string, string, string];
    const type = SCHEDULE_TYPES.find((t) => t === typeText.toLowerCase());
    if (!type) {
      throw new ApflowError(
        ErrorCode.VALIDATION_ERROR,
        `Schedule type "${typeText}" is unknown; use one of ${SCHEDULE_TYPES.join(", ")}.`,
      );
    }
    const timezone = stringOption(options, "timezone");
    // An unknown zone is reported by the schedule's own validation; dates are read in UTC meanwhile.
    const zone = (timezone && timeZoneName(timezone)) || "UTC";
    const startAt = dateOption(options, "start", zone);
    const endAt = dateOption(options, "end", zone);
    const maxRuns = integerOption(options, "max-runs", { min: 1, max: Number.MAX_SAFE_INTEGER });
    const missedRuns = choiceOption(options, "missed-runs", MISSED_RUN_POLICIES);
    const spec: ScheduleSpec = {
      type,
      expression,
      enabled: options.disabled !== true,
      ...(timezone ? { timezone } : {}),
      ...(startAt ? { startAt } : {}),
      ...(endAt ? { endAt } : {}),
      ...(maxRuns ? { maxRuns } : {}),
      ...(missedRuns ? { missedRuns } : {}),
    };
    const gateway = await ctx.gateway();
    return printScheduled(ctx, gateway, await gateway.setSchedule(id, spec));
  },
};

export const scheduleListCommand: Command = {
  name: "schedule list",
  summary: "List scheduled trees, soonest next run first",
  options: {
    enabled: { type: "boolean", description: "Only enabled schedules." },
    disabled: { type: "boolean", description: "Only disabled schedules." },
    limit: { type: "string", value: "N", description: "Schedules per page, 1 to 500 (default 50)." },
    after: { type: "string", value: "CURSOR", description: "The next page: the cursor the previous page printed." },
  },
  async run(ctx, { options }) {
    if (options.enabled && options.disabled) {
      throw new ApflowError(ErrorCode.VALIDATION_ERROR, "Give --enabled or --disabled, not both.");
    }
    const limit = integerOption(options, "limit", { min: 1, max: 500 }) ?? 50;
    const after = stringOption(options, "after");
    const gateway = await ctx.gateway();
    const page = await gateway.listSchedules({
      limit,
      ...(options.enabled ? { enabled: true } : options.disabled ? { enabled: false } : {}),
      ...(after ? { after } : {}),
    });
    const out = ctx.out;
    if (out.json) {
      out.printJson(page);
      return ExitCode.OK;
    }
    if (page.tasks.length === 0) {
      out.note("No schedules: `apflow schedule add` sets one.");
      return ExitCode.OK;
    }
    const lines = renderTable<TaskView>(
      [
        { header: "ID", value: (t) => t.id },
        { header: "NAME", value: (t) => t.name, shrink: true },
        { header: "SCHEDULE", value: (t) => t.schedule!.description, shrink: true },
        { header: "NEXT RUN", value: (t) => (t.schedule!.nextRunAt ? shortTime(t.schedule!.nextRunAt) : "-") },
        {
          header: "RUNS",
          value: (t) => `${t.schedule!.runCount}${t.schedule!.maxRuns === null ? "" : `/${t.schedule!.maxRuns}`}`,
          align: "right",
        },
        { header: "STATE", value: state, paint: (t) => (state(t) === "enabled" ? "green" : "dim") },
      ],
      page.tasks,
      out.style,
      out.width,
    );
    for (const line of lines) out.print(line);
    if (page.next) out.note(`Next page: --after ${page.next}`);
    return ExitCode.OK;
  },
};

/** enable / disable / remove / trigger: one call on one task, then its schedule's summary. */
function scheduleChange(
  name: string,
  summaryText: string,
  change: (gateway: Gateway, id: string) => Promise<TaskView>,
  details?: string,
): Command {
  return {
    name: `schedule ${name}`,
    summary: summaryText,
    args: ["ID"],
    ...(details ? { details } : {}),
    async run(ctx, { args }) {
      const gateway = await ctx.gateway();
      return printScheduled(ctx, gateway, await change(gateway, args[0]!));
    },
  };
}

export const scheduleEnableCommand = scheduleChange(
  "enable",
  "Enable a schedule; its next run is its first time after now",
  (gateway, id) => gateway.enableSchedule(id),
);

export const scheduleDisableCommand = scheduleChange(
  "disable",
  "Disable a schedule: the tree does not run by itself until enabled again",
  (gateway, id) => gateway.disableSchedule(id),
);

export const scheduleRemoveCommand = scheduleChange("remove", "Remove a task's schedule", (gateway, id) =>
  gateway.clearSchedule(id),
);

export const scheduleTriggerCommand = scheduleChange(
  "trigger",
  "Run a scheduled tree now (it counts as a run; the next scheduled time stays)",
  (gateway, id) => gateway.triggerSchedule(id),
  "Exits 5 while the tree is still running, or when the schedule is disabled or finished.\n" +
    "Follow the run with `apflow tasks watch ID`.",
);

export const scheduleExportCommand: Command = {
  name: "schedule export-ical",
  summary: "Print the schedules as an iCalendar (.ics) document, for calendar apps",
  options: {
    "include-disabled": { type: "boolean", description: "Also the disabled schedules." },
    output: { type: "string", short: "o", value: "FILE", description: "Write the calendar to FILE instead of stdout." },
  },
  async run(ctx, { options }) {
    const calendar = await (await ctx.gateway()).exportICal({ includeDisabled: options["include-disabled"] === true });
    const file = stringOption(options, "output");
    if (file) {
      await writeFile(file, calendar);
      if (ctx.out.json) ctx.out.printJson({ file });
      else ctx.out.print(`Wrote ${file}.`);
    } else if (ctx.out.json) ctx.out.printJson({ calendar });
    else ctx.out.write(calendar);
    return ExitCode.OK;
  },
};
