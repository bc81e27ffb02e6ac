/**
 * VTIMEZONE components, which RFC 5545 requires for every TZID a calendar uses
 * (most clients know IANA names anyway; Outlook and validators do not). Built from
 * Node's own zone data through Intl: the offset changes of a dozen years around the
 * events, written as a yearly rule ("last Sunday of March at 02:00") when every year
 * follows one, as a list of dates otherwise.
 */
import { daysInMonth, type OffsetChange, offsetAt, offsetChanges, type WallFields, wallFields } from "./zoned-time.js";

/** RFC 5545 weekday codes, index 0 = Sunday. */
export const ICAL_WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];

/** The years of offset changes described: one before the first event (to cover its start) and ten after. */
const YEARS_BEFORE = 1;
const YEARS_AFTER = 10;

/** Finding the changes takes about a thousand Intl calls; the answer never changes in a process. */
const built = new Map<string, string[]>();

/** The VTIMEZONE lines of `zone` for events from `firstEventMs` on. */
export function vTimezone(zone: string, firstEventMs: number): string[] {
  const firstYear = new Date(firstEventMs).getUTCFullYear() - YEARS_BEFORE;
  const key = `${zone} ${firstYear}`;
  let lines = built.get(key);
  if (!lines) {
    lines = buildVTimezone(zone, firstYear);
    built.set(key, lines);
  }
  return lines;
}

function buildVTimezone(zone: string, firstYear: number): string[] {
  const lastYear = firstYear + YEARS_BEFORE + YEARS_AFTER;
  const from = Date.UTC(firstYear, 0, 1);
  const changes = offsetChanges(zone, from, Date.UTC(lastYear + 1, 0, 1));
  const lines = ["BEGIN:VTIMEZONE", `TZID:${zone}`];
  if (changes.length === 0) {
    // A zone without DST: one observance, in force since the start of the range.
    const offset = utcOffset(offsetAt(from, zone));
    lines.push("BEGIN:STANDARD", `DTSTART:${icalWall(from)}`);
    lines.push(`TZOFFSETFROM:${offset}`, `TZOFFSETTO:${offset}`, "END:STANDARD");
  }
  const groups = new Map<string, OffsetChange[]>();
  for (const change of changes) {
    const key = `${change.offsetBefore}/${change.offsetAfter}`;
    groups.set(key, [...(groups.get(key) ?? []), change]);
  }
  for (const group of groups.values()) {
    const { offsetBefore, offsetAfter } = group[0]!;
    // Onsets are written in the local time that was in force just before them.
    const onsets = group.map((change) => change.at + offsetBefore);
    const kind = offsetAfter > offsetBefore ? "DAYLIGHT" : "STANDARD";
    lines.push(`BEGIN:${kind}`, `DTSTART:${icalWall(onsets[0]!)}`);
    const rule = yearlyRule(onsets, lastYear);
    if (rule) lines.push(rule);
    else for (const onset of onsets.slice(1)) lines.push(`RDATE:${icalWall(onset)}`);
    lines.push(`TZOFFSETFROM:${utcOffset(offsetBefore)}`, `TZOFFSETTO:${utcOffset(offsetAfter)}`, `END:${kind}`);
  }
  lines.push("END:VTIMEZONE");
  return lines;
}

/**
 * "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU" when the onsets (wall numbers) fall once a
 * year up to `lastYear`, in one month, at one time of day, on the same nth (or last)
 * weekday; null otherwise.
 */
function yearlyRule(onsets: number[], lastYear: number): string | null {
  const fields = onsets.map(wallFields);
  const first = fields[0]!;
  if (fields.length < 2 || fields.at(-1)!.year !== lastYear) return null;
  const regular = fields.every(
    (f, i) =>
      f.year === first.year + i &&
      f.month === first.month &&
      f.weekday === first.weekday &&
      f.hour === first.hour &&
      f.minute === first.minute &&
      f.second === first.second,
  );
  if (!regular) return null;
  const isLast = (f: WallFields) => f.day + 7 > daysInMonth(f.year, f.month);
  const nth = (f: WallFields) => Math.ceil(f.day / 7);
  let position: number;
  if (fields.every(isLast)) position = -1;
  else if (fields.every((f) => nth(f) === nth(first))) position = nth(first);
  else return null;
  return `RRULE:FREQ=YEARLY;BYMONTH=${first.month};BYDAY=${position}${ICAL_WEEKDAYS[first.weekday]}`;
}

/** A wall number as an iCal local date-time, "20260329T020000". */
export function icalWall(wall: number): string {
  return new Date(wall).toISOString().replace(/[-:]/g, "").slice(0, 15);
}

/** An offset in milliseconds as an iCal UTC offset, "+0100", "-0330", "+005328". */
function utcOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? "-" : "+";
  const total = Math.abs(offsetMs) / 1000;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const hhmm = `${String(hours).padStart(2, "0")}${String(minutes).padStart(2, "0")}`;
  return `${sign}${hhmm}${seconds ? String(seconds).padStart(2, "0") : ""}`;
}
