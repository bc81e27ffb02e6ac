/**
 * Wall-clock time in an IANA time zone, with nothing but `Intl` (no time-zone
 * dependency: the zone data is the one Node ships with).
 *
 * A wall-clock time is carried as a "wall" number: the milliseconds since the epoch
 * the wall fields would have in UTC (`Date.UTC(year, month - 1, day, hour, minute)`).
 * Calendar arithmetic on it (next day, next month) never meets a DST change; only
 * `wallToInstant` and `instantToWall` cross between the two time lines.
 *
 * DST rules (the scheduler's, applied by `wallToInstant`):
 * - A wall time that does not exist (the spring-forward gap, e.g. 02:30 on the
 *   changeover day in Europe/Berlin) maps to the first instant after the gap (03:00
 *   local), so a job due in the gap runs as soon as the clock has jumped.
 * - An ambiguous wall time (the fall-back overlap, when 02:00-02:59 happens twice)
 *   maps to its first occurrence, so it runs once.
 * Assumes at most one offset change within a day of any instant, true of every zone
 * in use (even Pacific/Apia's skipped day in 2011 is one change).
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** The wall-clock fields of a wall number, month 1-12, weekday 0 = Sunday. */
export interface WallFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/**
 * The spelling of an IANA zone to store, or null when Intl does not know it. Only the
 * case is corrected ("europe/paris" -> "Europe/Paris"): ICU would also turn current
 * names into legacy ones ("Asia/Kolkata" -> "Asia/Calcutta"), so other names stay as
 * given.
 */
export function timeZoneName(zone: string): string | null {
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
    return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
  } catch {
    return null;
  }
}

/** True for the zones that are plain UTC, which iCal writes with a `Z` instead of a TZID. */
export function isUtcZone(zone: string): boolean {
  return zone === "UTC" || zone === "Etc/UTC" || zone === "Etc/GMT" || zone === "GMT";
}

/** The wall number of `instantMs` in `zone`, to the second. */
export function instantToWall(instantMs: number, zone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(zone).formatToParts(instantMs)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  return Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!);
}

/** The zone's offset from UTC at an instant, in milliseconds (wall minus instant). */
export function offsetAt(instantMs: number, zone: string): number {
  const wholeSecond = Math.floor(instantMs / 1000) * 1000;
  return instantToWall(wholeSecond, zone) - wholeSecond;
}

/** The instant a wall-clock time stands for in `zone`, with the DST rules above. */
export function wallToInstant(wall: number, zone: string): number {
  const offsetBefore = offsetAt(wall - DAY_MS, zone);
  const offsetAfter = offsetAt(wall + DAY_MS, zone);
  const valid = [offsetBefore, offsetAfter]
    .map((offset) => wall - offset)
    .filter((instant) => offsetAt(instant, zone) === wall - instant);
  // Both valid: the overlap, where the earlier instant is the first occurrence.
  if (valid.length > 0) return Math.min(...valid);
  // Neither: the gap. The change lies between the two readings; find it to the second.
  // Read with the later offset it is an instant before the change, with the earlier
  // one an instant after it (offsets are whole seconds; a wall may carry milliseconds).
  const before = Math.floor((wall - offsetAfter) / 1000) * 1000;
  const after = Math.ceil((wall - offsetBefore) / 1000) * 1000;
  return firstSecondAfterChange(zone, before, after, offsetBefore);
}

/**
 * The first whole second in (before, after] whose offset is no longer `oldOffset`,
 * by bisection: `before` (a whole second) still reads `oldOffset`, `after` does not.
 */
function firstSecondAfterChange(zone: string, before: number, after: number, oldOffset: number): number {
  let low = before;
  let high = after;
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (offsetAt(middle, zone) === oldOffset) low = middle;
    else high = middle;
  }
  return high;
}

/** The fields of a wall number. */
export function wallFields(wall: number): WallFields {
  const date = new Date(wall);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
    weekday: date.getUTCDay(),
  };
}

/** Days in a month (month 1-12). */
export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** One change of a zone's offset: the instant, and the offsets before and after it. */
export interface OffsetChange {
  at: number;
  offsetBefore: number;
  offsetAfter: number;
}

/**
 * Every offset change of `zone` in [fromMs, toMs), found by sampling every few days
 * and narrowing each change down to the second. Changes closer together than the
 * sampling step would be missed; no zone has had two within a week.
 */
export function offsetChanges(zone: string, fromMs: number, toMs: number): OffsetChange[] {
  const step = 4 * DAY_MS;
  const changes: OffsetChange[] = [];
  const end = Math.ceil(toMs / 1000) * 1000;
  let previous = Math.floor(fromMs / 1000) * 1000;
  let previousOffset = offsetAt(previous, zone);
  while (previous < end) {
    const next = Math.min(previous + step, end);
    const nextOffset = offsetAt(next, zone);
    if (nextOffset !== previousOffset) {
      const at = firstSecondAfterChange(zone, previous, next, previousOffset);
      changes.push({ at, offsetBefore: previousOffset, offsetAfter: nextOffset });
    }
    previous = next;
    previousOffset = nextOffset;
  }
  return changes;
}

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Reads an ISO 8601 date-time ("2026-01-15T09:00:00Z", "2026-01-15 09:00",
 * "2026-01-15T09:00+01:00", "2026-01-15"). Without an offset it is a wall-clock time
 * in `zone` (with the DST rules above). Null when it is not such a date-time or names
 * a day, hour or offset that cannot exist.
 */
export function parseDateTime(text: string, zone: string): number | null {
  const match = ISO_DATE_TIME.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (!valid) return null;
  const millis = Math.floor(Number(`0.${match[7] ?? "0"}`) * 1000);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const offsetText = match[8];
  if (offsetText === undefined) return wallToInstant(wall, zone);
  if (offsetText.toUpperCase() === "Z") return wall;
  const digits = offsetText.replace(":", "");
  const offsetMinutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || "0");
  if (offsetMinutes > 18 * 60) return null;
  return wall - (digits.startsWith("-") ? -1 : 1) * offsetMinutes * MINUTE_MS;
}
