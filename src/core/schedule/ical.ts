/**
 * The schedules as an iCalendar feed (RFC 5545), one VEVENT per schedule that has a
 * next run, so calendar apps can show when the trees will run.
 *
 * DTSTART is the next run (a minute long); the repetition is an RRULE where the
 * schedule maps to one exactly, otherwise RDATEs for its next occurrences:
 * - daily/weekly/monthly: FREQ=DAILY/WEEKLY/MONTHLY with BYDAY/BYMONTHDAY (L = -1),
 *   BYHOUR and BYMINUTE; several times of day need every hour to go with every minute
 *   ("09:00,17:30" does not: BYHOUR=9,17;BYMINUTE=0,30 would also mean 09:30).
 * - cron: FREQ=MINUTELY with BY* parts, unless both day fields are restricted (cron
 *   ORs them, an RRULE ANDs them).
 * - interval: FREQ=SECONDLY/MINUTELY/HOURLY/DAILY;INTERVAL=n, the largest unit that
 *   divides it; written in UTC because an interval is elapsed time, and a DAILY rule
 *   in a zone would keep the wall-clock time across DST.
 * - once: no repetition.
 * COUNT is the runs left under maxRuns, UNTIL is endAt (RFC 5545 allows only one of
 * them; with both, whichever ends the series first). DST gaps: calendar apps place a
 * run due at 02:30 on the changeover day at 03:30 (RFC 5545), the scheduler at 03:00.
 */
import { ALL_DAYS_OF_MONTH, ALL_DAYS_OF_WEEK, ALL_MONTHS, type CalendarRule, isAll } from "./calendar.js";
import { describeSchedule } from "./describe.js";
import { compileSchedule, type ScheduleRule } from "./expression.js";
import { ICAL_WEEKDAYS, icalWall, vTimezone } from "./ical-timezone.js";
import { nextRunOf } from "./next-run.js";
import type { Schedule } from "./spec.js";
import { instantToWall, isUtcZone } from "./zoned-time.js";

export interface ICalEntry {
  /** The root task id; the event's UID is `${id}@apflow`, stable across exports. */
  id: string;
  name: string;
  schedule: Schedule;
  /** The stored next run; when null it is computed from `now`. */
  nextRunAt: Date | null;
  runCount: number;
  /** A link to the task, added to the description. */
  url?: string;
}

/** How many occurrences RDATE lists when no RRULE fits. */
const RDATE_COUNT = 50;
/** How far COUNT and UNTIL are compared when a schedule has both maxRuns and endAt. */
const COUNT_OR_UNTIL_WALK = 1000;

/**
 * The calendar: VERSION 2.0, one VEVENT per entry that still has a run (disabled
 * schedules with STATUS:CANCELLED), a VTIMEZONE per zone used; CRLF line ends,
 * lines folded at 75 octets.
 */
export function toICalendar(entries: ICalEntry[], options: { now: Date; calendarName?: string }): string {
  const events: string[][] = [];
  const zones = new Map<string, number>(); // zone -> first DTSTART in it
  for (const entry of entries) {
    const event = vEvent(entry, options.now);
    if (!event) continue;
    events.push(event.lines);
    if (event.zone !== null) zones.set(event.zone, Math.min(zones.get(event.zone) ?? event.start, event.start));
  }
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//apflow//scheduler//EN",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    `X-WR-CALNAME:${escapeText(options.calendarName ?? "apflow schedules")}`,
  ];
  for (const [zone, firstStart] of zones) lines.push(...vTimezone(zone, firstStart));
  for (const event of events) lines.push(...event);
  lines.push("END:VCALENDAR");
  return `${lines.map(foldLine).join("\r\n")}\r\n`;
}

/** The event's lines, the zone its times are written in (null for UTC) and its start. */
function vEvent(entry: ICalEntry, now: Date): { lines: string[]; zone: string | null; start: number } | null {
  const { schedule, runCount } = entry;
  const rule = compileSchedule(schedule);
  const start = entry.nextRunAt ?? nextRunOf(rule, schedule, now, runCount);
  if (start === null || (schedule.maxRuns !== null && runCount >= schedule.maxRuns)) return null;
  const zone = rule.kind === "interval" || isUtcZone(schedule.timezone) ? null : schedule.timezone;
  const time = (instant: Date) =>
    zone === null ? `:${icalUtc(instant)}` : `;TZID=${zone}:${icalWall(instantToWall(instant.getTime(), zone))}`;
  const description = [describeSchedule(schedule), entry.url].filter(Boolean).join("\n");
  const lines = [
    "BEGIN:VEVENT",
    `UID:${escapeText(`${entry.id}@apflow`)}`,
    `DTSTAMP:${icalUtc(now)}`,
    `SUMMARY:${escapeText(entry.name)}`,
    `DESCRIPTION:${escapeText(description)}`,
    `DTSTART${time(start)}`,
    "DURATION:PT1M",
  ];
  const recurrence = recurrenceRule(rule, schedule);
  if (recurrence) {
    lines.push(`RRULE:${recurrence}${seriesEnd(rule, schedule, start, runCount)}`);
  } else if (rule.kind === "calendar") {
    // No exact RRULE: the next occurrences as dates, within maxRuns and endAt.
    let previous = start;
    for (let i = 1; i < RDATE_COUNT; i++) {
      const next = nextRunOf(rule, schedule, previous, runCount + i);
      if (next === null) break;
      lines.push(`RDATE${time(next)}`);
      previous = next;
    }
  }
  if (!schedule.enabled) lines.push("STATUS:CANCELLED");
  lines.push("END:VEVENT");
  return { lines, zone, start: start.getTime() };
}

/** The RRULE without COUNT/UNTIL, or null when the schedule has none (once) or none fits. */
function recurrenceRule(rule: ScheduleRule, schedule: Schedule): string | null {
  if (rule.kind === "once") return null;
  if (rule.kind === "interval") {
    const units: [string, number][] = [
      ["DAILY", 86_400],
      ["HOURLY", 3600],
      ["MINUTELY", 60],
    ];
    const [freq, size] = units.find(([, size]) => rule.seconds % size === 0) ?? ["SECONDLY", 1];
    return `FREQ=${freq};INTERVAL=${rule.seconds / size}`;
  }
  const calendar = rule.calendar;
  const hours = [...new Set(calendar.minutesOfDay.map((m) => Math.floor(m / 60)))];
  const minutes = [...new Set(calendar.minutesOfDay.map((m) => m % 60))].sort((a, b) => a - b);
  const crossProduct = hours.length * minutes.length === calendar.minutesOfDay.length;
  if (calendar.dayMatch === "or" || !crossProduct) return null;
  // daily, weekly and monthly repeat at their own frequency; a cron can select any minute.
  const freq = schedule.type === "cron" ? "MINUTELY" : schedule.type.toUpperCase();
  const parts = [`FREQ=${freq}`, ...byParts(calendar)];
  // A cron leaves out the fields that are "*"; the others always name their time.
  if (schedule.type !== "cron" || hours.length < 24) parts.push(`BYHOUR=${hours.join(",")}`);
  if (schedule.type !== "cron" || minutes.length < 60) parts.push(`BYMINUTE=${minutes.join(",")}`);
  return parts.join(";");
}

function byParts(calendar: CalendarRule): string[] {
  const parts: string[] = [];
  if (!isAll(calendar.months, ALL_MONTHS)) parts.push(`BYMONTH=${[...calendar.months].join(",")}`);
  if (!isAll(calendar.daysOfMonth, ALL_DAYS_OF_MONTH) || calendar.lastDayOfMonth) {
    const days = [...calendar.daysOfMonth].sort((a, b) => a - b).map(String);
    if (calendar.lastDayOfMonth) days.push("-1");
    parts.push(`BYMONTHDAY=${days.join(",")}`);
  }
  if (!isAll(calendar.daysOfWeek, ALL_DAYS_OF_WEEK)) {
    // Monday first, the order calendar apps show.
    const days = [...calendar.daysOfWeek].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7));
    parts.push(`BYDAY=${days.map((d) => ICAL_WEEKDAYS[d]).join(",")}`);
  }
  return parts;
}

/**
 * ";COUNT=n" (runs left under maxRuns), ";UNTIL=..." (endAt), or "". With both, walks
 * the occurrences to see which ends the series first; past COUNT_OR_UNTIL_WALK runs
 * it keeps UNTIL, the explicit date.
 */
function seriesEnd(rule: ScheduleRule, schedule: Schedule, start: Date, runCount: number): string {
  const until = schedule.endAt ? `;UNTIL=${icalUtc(schedule.endAt)}` : "";
  if (schedule.maxRuns === null) return until;
  const left = schedule.maxRuns - runCount;
  if (!schedule.endAt) return `;COUNT=${left}`;
  let seen = 1;
  for (let at: Date | null = start; seen < Math.min(left, COUNT_OR_UNTIL_WALK); seen++) {
    at = nextRunOf(rule, schedule, at, runCount + seen);
    if (at === null) return until; // endAt came first
  }
  return left <= COUNT_OR_UNTIL_WALK ? `;COUNT=${left}` : until;
}

/** An instant as an iCal UTC date-time, "20260115T090000Z". */
function icalUtc(instant: Date): string {
  return `${instant.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z`;
}

/** RFC 5545 TEXT: backslash, semicolon and comma escaped, line breaks as "\n". */
function escapeText(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/;/g, "\\;")
    .replace(/,/g, "\\,")
    .replace(/\r\n|\r|\n/g, "\\n");
}

/**
 * Folds a content line at 75 octets (RFC 5545 3.1): continuation lines start with a
 * space. Splits between characters, never inside a UTF-8 sequence.
 */
function foldLine(line: string): string {
  if (Buffer.byteLength(line, "utf8") <= 75) return line;
  const pieces: string[] = [];
  let piece = "";
  let octets = 0;
  let limit = 75;
  for (const char of line) {
    const size = Buffer.byteLength(char, "utf8");
    if (octets + size > limit) {
      pieces.push(piece);
      piece = "";
      octets = 0;
      limit = 74; // the leading space counts
    }
    piece += char;
    octets += size;
  }
  pieces.push(piece);
  return pieces.join("\r\n ");
}
