/**
 * The wall-clock calendar behind the daily, weekly, monthly and cron schedules: which
 * months, which days, which times of day. One shape for all four, so the search for
 * the next occurrence, the iCal RRULE and the description are written once.
 */
import { DAY_MS, daysInMonth, MINUTE_MS, wallFields } from "./zoned-time.js";

export interface CalendarRule {
  /** Times of day as minutes after local midnight, ascending, without duplicates. */
  minutesOfDay: readonly number[];
  /** Months 1-12. */
  months: ReadonlySet<number>;
  /** Days of the month 1-31; a month without the day skips it. */
  daysOfMonth: ReadonlySet<number>;
  /** Also the last day of each month ("L"). */
  lastDayOfMonth: boolean;
  /** Days of the week, 0 = Sunday ... 6 = Saturday. */
  daysOfWeek: ReadonlySet<number>;
  /**
   * How the two day conditions combine. "or" is cron's rule when both day fields are
   * restricted (Vixie cron: "0 0 1 * 1" runs on the 1st and on every Monday).
   */
  dayMatch: "and" | "or";
}

export const ALL_MONTHS: ReadonlySet<number> = new Set(range(1, 12));
export const ALL_DAYS_OF_MONTH: ReadonlySet<number> = new Set(range(1, 31));
export const ALL_DAYS_OF_WEEK: ReadonlySet<number> = new Set(range(0, 6));

/** The integers from `first` to `last`, inclusive. */
export function range(first: number, last: number, step = 1): number[] {
  const values: number[] = [];
  for (let value = first; value <= last; value += step) values.push(value);
  return values;
}

/** Whether a restriction lets everything through (the field is "*"). */
export function isAll(values: ReadonlySet<number>, all: ReadonlySet<number>): boolean {
  return values.size === all.size;
}

function dayMatches(rule: CalendarRule, year: number, month: number, day: number, weekday: number): boolean {
  const byDate = rule.daysOfMonth.has(day) || (rule.lastDayOfMonth && day === daysInMonth(year, month));
  const byWeekday = rule.daysOfWeek.has(weekday);
  return rule.dayMatch === "and" ? byDate && byWeekday : byDate || byWeekday;
}

/**
 * How far the search looks ahead before it gives up. Eight years, because a rule for
 * February 29th has a gap that long around 2100 (not a leap year).
 */
const SEARCH_LIMIT_MS = 8 * 366 * DAY_MS;

/**
 * The first wall time at or after `fromWall` (a wall number, see zoned-time.ts) that
 * the rule selects, or null when there is none before `fromWall + SEARCH_LIMIT_MS`.
 * Skips whole months and days that do not match instead of scanning minutes.
 */
export function nextCalendarWall(rule: CalendarRule, fromWall: number): number | null {
  const limit = fromWall + SEARCH_LIMIT_MS;
  let dayStart = Math.floor(fromWall / DAY_MS) * DAY_MS;
  let earliestMinute = Math.ceil((fromWall - dayStart) / MINUTE_MS);
  while (dayStart <= limit) {
    const { year, month, day, weekday } = wallFields(dayStart);
    if (!rule.months.has(month)) {
      dayStart = Date.UTC(year, month, 1); // the 1st of the next month
      earliestMinute = 0;
      continue;
    }
    if (dayMatches(rule, year, month, day, weekday)) {
      const minute = rule.minutesOfDay.find((m) => m >= earliestMinute);
      if (minute !== undefined) return dayStart + minute * MINUTE_MS;
    }
    dayStart += DAY_MS;
    earliestMinute = 0;
  }
  return null;
}
