/**
 * When a schedule runs next. Pure: the answer depends only on the schedule, the
 * instant to look after and the number of runs made, never on when a run finished,
 * so a late or slow run does not shift the ones after it (no drift).
 */
import { type CalendarRule, nextCalendarWall } from "./calendar.js";
import { compileSchedule, type ScheduleRule } from "./expression.js";
import type { Schedule } from "./spec.js";
import { instantToWall, MINUTE_MS, wallToInstant } from "./zoned-time.js";

/**
 * The earliest occurrence strictly after `after`, not before startAt, not after
 * endAt; null when runCount >= maxRuns or no occurrence is left. Interval occurrences
 * are anchor + k * interval with anchor = startAt (when startAt is null: after +
 * interval). A once schedule that has run (runCount >= 1) has none left. `enabled` is
 * not looked at: whether a disabled schedule fires is the caller's decision.
 * Wall-clock types follow the DST rules of zoned-time.ts.
 */
export function nextRun(schedule: Schedule, after: Date, runCount: number): Date | null {
  return nextRunOf(compileSchedule(schedule), schedule, after, runCount);
}

/** `nextRun` with the rule already compiled, for callers that walk many occurrences. */
export function nextRunOf(rule: ScheduleRule, schedule: Schedule, after: Date, runCount: number): Date | null {
  if (schedule.maxRuns !== null && runCount >= schedule.maxRuns) return null;
  const startAt = schedule.startAt?.getTime() ?? null;
  // Strictly after `lower` is both strictly after `after` and at or after startAt.
  const lower = startAt === null ? after.getTime() : Math.max(after.getTime(), startAt - 1);
  let next: number | null;
  switch (rule.kind) {
    case "once":
      next = runCount === 0 && rule.at > lower ? rule.at : null;
      break;
    case "interval": {
      const step = rule.seconds * 1000;
      if (startAt === null) next = after.getTime() + step;
      else next = startAt + (Math.floor((lower - startAt) / step) + 1) * step;
      break;
    }
    case "calendar":
      next = nextWallClockRun(rule.calendar, schedule.timezone, lower);
      break;
  }
  if (next === null || (schedule.endAt !== null && next > schedule.endAt.getTime())) return null;
  return new Date(next);
}

/**
 * Walks the calendar's wall-clock times from the minute after `lower` and returns the
 * first whose instant is after `lower`. Wall times map to instants in order (a gap time
 * to the end of the gap, an overlap time to its first occurrence), so the first one
 * past `lower` is the earliest. Those skipped are the times whose instant has passed:
 * the gap's times once the gap has ended, and in the repeated hour the times that
 * already ran in its first pass; so no wall time runs twice.
 */
function nextWallClockRun(calendar: CalendarRule, zone: string, lower: number): number | null {
  let from = Math.floor(instantToWall(lower, zone) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  for (;;) {
    const wall = nextCalendarWall(calendar, from);
    if (wall === null) return null;
    const instant = wallToInstant(wall, zone);
    if (instant > lower) return instant;
    from = wall + MINUTE_MS;
  }
}
