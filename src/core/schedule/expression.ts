/**
 * The expression of each schedule type, read into the rule the rest of the module
 * works from. Formats follow the Python apflow:
 * - once: an ISO date-time, "2026-01-15T09:00:00Z" (without an offset: in the schedule's zone)
 * - interval: seconds, "3600", or with a unit: "90s", "15m", "2h", "1d"
 * - cron: 5-field cron or a macro (cron.ts)
 * - daily: "HH:MM", or a list "09:00,17:30"
 * - weekly: "DAYS HH:MM", days 1-7 (1 = Monday) or names: "1,3,5 09:00", "1-5 08:30", "mon,wed 09:00"
 * - monthly: "DATES HH:MM", dates 1-31 or L (the last day): "1,15 09:00", "L 18:00"
 */
import { ErrorCode, type Problem, validationError } from "../errors.js";
import { ALL_DAYS_OF_MONTH, ALL_DAYS_OF_WEEK, ALL_MONTHS, type CalendarRule } from "./calendar.js";
import { parseCron } from "./cron.js";
import { parseFieldList } from "./field-list.js";
import type { Schedule, ScheduleType } from "./spec.js";
import { parseDateTime } from "./zoned-time.js";

export type ScheduleRule =
  | { kind: "once"; at: number }
  | { kind: "interval"; seconds: number }
  | { kind: "calendar"; calendar: CalendarRule };

export interface ExpressionParse {
  /** Null when the expression cannot be read; a cron that never runs still has one. */
  rule: ScheduleRule | null;
  problems: string[];
}

/** An example of each type's expression, for messages. */
export const EXPRESSION_EXAMPLES: Readonly<Record<ScheduleType, string>> = {
  once: '"2026-01-15T09:00:00Z"',
  interval: '"3600" (seconds) or "90s", "15m", "2h", "1d"',
  cron: '"0 9 * * 1-5" or "@daily"',
  daily: '"09:00" or "09:00,17:30"',
  weekly: '"1,3,5 09:00" (1 = Monday ... 7 = Sunday) or "mon-fri 08:30"',
  monthly: '"1,15 09:00" or "L 18:00" (L = the last day of the month)',
};

/** Parses a trimmed, non-empty expression of a known type. */
export function parseExpression(type: ScheduleType, expression: string, timezone: string): ExpressionParse {
  switch (type) {
    case "once":
      return parseOnce(expression, timezone);
    case "interval":
      return parseInterval(expression);
    case "cron": {
      const { rule, problems } = parseCron(expression);
      return { rule: rule && { kind: "calendar", calendar: rule }, problems };
    }
    case "daily":
    case "weekly":
    case "monthly":
      return parseCalendar(type, expression);
  }
}

/**
 * The rule of a stored schedule. Schedules come from `parseSchedule`, so this only
 * fails when the data was changed behind its back (or the zone left Node's data).
 */
export function compileSchedule(schedule: Schedule): ScheduleRule {
  const { rule, problems } = parseExpression(schedule.type, schedule.expression, schedule.timezone);
  if (rule) return rule;
  const list: Problem[] = problems.map((message) => ({
    path: "expression",
    code: ErrorCode.VALIDATION_ERROR,
    message,
  }));
  throw validationError(list, "stored schedule", "no run time can be computed; set the schedule again");
}

function parseOnce(expression: string, timezone: string): ExpressionParse {
  const at = parseDateTime(expression, timezone);
  if (at === null) {
    return {
      rule: null,
      problems: [`once "${expression}" is not an ISO date-time; use e.g. ${EXPRESSION_EXAMPLES.once}`],
    };
  }
  return { rule: { kind: "once", at }, problems: [] };
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
/** Longer intervals are typos (and would overflow dates); use a cron or monthly schedule. */
const MAX_INTERVAL_SECONDS = 10 * 366 * 86_400;

function parseInterval(expression: string): ExpressionParse {
  const match = /^(\d+)\s*([smhd])?$/i.exec(expression);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[(match[2] ?? "s").toLowerCase()]! : 0;
  if (!match || seconds < 1) {
    const problem = `interval "${expression}" is not a positive whole number of seconds; use e.g. ${EXPRESSION_EXAMPLES.interval}`;
    return { rule: null, problems: [problem] };
  }
  if (seconds > MAX_INTERVAL_SECONDS) {
    const problem = `interval "${expression}" is longer than 10 years; use a cron or monthly schedule for rare runs`;
    return { rule: null, problems: [problem] };
  }
  return { rule: { kind: "interval", seconds }, problems: [] };
}

const ISO_WEEKDAYS: Readonly<Record<string, number>> = {
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
  sun: 7,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
  sunday: 7,
};

/** daily "TIMES", weekly "DAYS TIMES", monthly "DATES TIMES". */
function parseCalendar(type: "daily" | "weekly" | "monthly", expression: string): ExpressionParse {
  // Times start at the first token with a colon. Spaces inside either list read as
  // commas, so "mon, wed 09:00" and "09:00, 17:30" work as they look.
  const tokens = expression.split(/\s+/);
  const firstTime = tokens.findIndex((token) => token.includes(":"));
  const list = (parts: string[]) => parts.join(",").replace(/,+/g, ",").replace(/^,|,$/g, "");
  const dayText = list(tokens.slice(0, Math.max(firstTime, 0)));
  const timeText = list(tokens.slice(Math.max(firstTime, 0)));
  const needsDays = type !== "daily";
  if (firstTime < 0 || (needsDays && dayText === "") || (!needsDays && firstTime > 0)) {
    const shape = { daily: "times", weekly: "days and a time", monthly: "dates and a time" }[type];
    return { rule: null, problems: [`${type} "${expression}" needs ${shape}, e.g. ${EXPRESSION_EXAMPLES[type]}`] };
  }
  const problems: string[] = [];
  let daysOfWeek = ALL_DAYS_OF_WEEK;
  let daysOfMonth = ALL_DAYS_OF_MONTH;
  let lastDayOfMonth = false;
  if (type === "weekly") {
    const spec = {
      label: "weekly day",
      min: 1,
      max: 7,
      names: ISO_WEEKDAYS,
      namesHint: "MON-SUN",
      allowStarAndStep: false,
    };
    const days = parseFieldList(dayText, spec);
    problems.push(...days.problems);
    daysOfWeek = new Set(days.values.map((day) => day % 7)); // ISO 7 (Sunday) is 0 here
  } else if (type === "monthly") {
    const items = dayText.split(",");
    lastDayOfMonth = items.some((item) => item.toUpperCase() === "L");
    const dates = items.filter((item) => item.toUpperCase() !== "L");
    const spec = { label: "monthly date", min: 1, max: 31, allowStarAndStep: false };
    const parsed = dates.length > 0 ? parseFieldList(dates.join(","), spec) : { values: [], problems: [] };
    problems.push(...parsed.problems);
    daysOfMonth = new Set(parsed.values);
  }
  const minutesOfDay = parseTimes(type, timeText, problems);
  if (problems.length > 0) return { rule: null, problems };
  const calendar: CalendarRule = {
    minutesOfDay,
    months: ALL_MONTHS,
    daysOfMonth,
    lastDayOfMonth,
    daysOfWeek,
    dayMatch: "and",
  };
  return { rule: { kind: "calendar", calendar }, problems: [] };
}

/** "09:00,17:30" -> [540, 1050]; bad times are added to `problems`. */
function parseTimes(type: string, text: string, problems: string[]): number[] {
  const minutes = new Set<number>();
  for (const time of text.split(",")) {
    const match = /^(\d{1,2}):(\d{2})$/.exec(time);
    const hour = Number(match?.[1]);
    const minute = Number(match?.[2]);
    if (!match || hour > 23 || minute > 59) {
      problems.push(`${type} time "${time}" is not a time HH:MM between 00:00 and 23:59`);
    } else {
      minutes.add(hour * 60 + minute);
    }
  }
  return [...minutes].sort((a, b) => a - b);
}
