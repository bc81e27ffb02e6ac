/** One line of human text per schedule, for tables and calendar descriptions. */
import type { CalendarRule } from "./calendar.js";
import { compileSchedule } from "./expression.js";
import type { Schedule } from "./spec.js";
import { instantToWall, wallFields } from "./zoned-time.js";

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/**
 * "every day at 09:00 (Europe/Paris)", "every 1h", "at 0 9 * * 1-5 (UTC)",
 * "every Mon-Fri at 08:30 (UTC)", "every month on day 1, 15 at 09:00 (UTC)",
 * "once at 2026-01-15 09:00 (UTC)"; then the limits, e.g. ", until 2026-06-30 18:00,
 * at most 10 runs". Times are wall-clock times in the schedule's zone.
 */
export function describeSchedule(schedule: Schedule): string {
  const rule = compileSchedule(schedule);
  const zone = schedule.timezone;
  let what: string;
  switch (rule.kind) {
    case "once":
      what = `once at ${localTime(rule.at, zone)}`;
      break;
    case "interval":
      what = `every ${duration(rule.seconds)}`;
      break;
    case "calendar":
      what = schedule.type === "cron" ? `at ${schedule.expression}` : describeCalendar(rule.calendar, schedule.type);
      break;
  }
  const limits: string[] = [];
  if (schedule.startAt) limits.push(`from ${localTime(schedule.startAt.getTime(), zone)}`);
  if (schedule.endAt) limits.push(`until ${localTime(schedule.endAt.getTime(), zone)}`);
  if (schedule.maxRuns !== null) limits.push(`at most ${schedule.maxRuns} run${schedule.maxRuns === 1 ? "" : "s"}`);
  // Intervals are elapsed time: the zone only matters when a date is shown.
  const showZone = rule.kind !== "interval" || schedule.startAt !== null || schedule.endAt !== null;
  return [what, ...limits].join(", ") + (showZone ? ` (${zone})` : "");
}

function describeCalendar(calendar: CalendarRule, type: string): string {
  const times = calendar.minutesOfDay.map((m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`).join(", ");
  if (type === "weekly") {
    // Monday first, as in the expression (1 = Monday).
    const days = [...calendar.daysOfWeek].map((d) => (d + 6) % 7).sort((a, b) => a - b);
    return `every ${runs(days, (d) => WEEKDAYS[(d + 1) % 7]!)} at ${times}`;
  }
  if (type === "monthly") {
    const dates = [...calendar.daysOfMonth].sort((a, b) => a - b);
    const parts = dates.length > 0 ? [`day ${runs(dates, String)}`] : [];
    if (calendar.lastDayOfMonth) parts.push("the last day");
    return `every month on ${parts.join(" and ")} at ${times}`;
  }
  return `every day at ${times}`;
}

/** Ascending values as a list with runs of three or more shortened: 1, 2, 3, 5 -> "1-3, 5". */
function runs(values: number[], name: (value: number) => string): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${name(values[i]!)}-${name(values[j]!)}`);
    else for (let k = i; k <= j; k++) parts.push(name(values[k]!));
    i = j + 1;
  }
  return parts.join(", ");
}

/** 5400 -> "1h 30m", 90 -> "1m 30s", 86400 -> "1d". */
function duration(seconds: number): string {
  const units: [string, number][] = [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join(" ");
}

/** "2026-01-15 09:00" (with ":ss" when the seconds are not zero), in `zone`. */
function localTime(instant: number, zone: string): string {
  const { year, month, day, hour, minute, second } = wallFields(instantToWall(instant, zone));
  const base = `${year}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}`;
  return second === 0 ? base : `${base}:${pad(second)}`;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}
