/**
 * Standard 5-field cron (minute hour day-of-month month day-of-week) as Vixie cron
 * reads it: lists, ranges, steps, month and weekday names, 0 or 7 for Sunday, the
 * @hourly/@daily/@weekly/@monthly/@yearly macros, and the day rule: when both day
 * fields are restricted a day matching EITHER runs. A day field counts as restricted
 * unless it starts with "*" (so "*\/2" in day-of-month still ANDs, as in Vixie).
 */
import { ALL_DAYS_OF_MONTH, type CalendarRule, isAll } from "./calendar.js";
import { type FieldSpec, parseFieldList } from "./field-list.js";

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
/** Weekdays, index 0 = Sunday (cron's numbering). */
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** "jan" -> 1 (with first = 1): the three-letter names cron accepts. */
function abbreviations(names: string[], first: number): Record<string, number> {
  return Object.fromEntries(names.map((name, i) => [name.slice(0, 3).toLowerCase(), i + first]));
}

const FIELDS: readonly FieldSpec[] = [
  { label: "cron field 1 (minute)", min: 0, max: 59, allowStarAndStep: true },
  { label: "cron field 2 (hour)", min: 0, max: 23, allowStarAndStep: true },
  { label: "cron field 3 (day-of-month)", min: 1, max: 31, allowStarAndStep: true },
  {
    label: "cron field 4 (month)",
    min: 1,
    max: 12,
    names: abbreviations(MONTHS, 1),
    namesHint: "JAN-DEC",
    allowStarAndStep: true,
  },
  // 7 is Sunday too; folded into 0 after parsing.
  {
    label: "cron field 5 (day-of-week)",
    min: 0,
    max: 7,
    names: abbreviations(WEEKDAYS, 0),
    namesHint: "SUN-SAT",
    allowStarAndStep: true,
  },
];

/** The longest month of each month number, February counting its leap day. */
const LONGEST_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export interface CronParse {
  /** The calendar the cron selects; null when it cannot be read. */
  rule: CalendarRule | null;
  /** What is wrong, one message per problem, each saying what is allowed. */
  problems: string[];
}

/** Parses a cron expression (already trimmed); reports every bad field at once. */
export function parseCron(expression: string): CronParse {
  const source = expression.startsWith("@") ? MACROS[expression.toLowerCase()] : expression;
  if (source === undefined) {
    const known = Object.keys(MACROS).join(", ");
    return { rule: null, problems: [`cron macro "${expression}" is unknown; use one of ${known}`] };
  }
  const fields = source.split(/\s+/);
  if (fields.length !== 5) {
    return {
      rule: null,
      problems: [
        `cron "${expression}" has ${fields.length} field${fields.length === 1 ? "" : "s"}; it needs 5 ` +
          '(minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5" (a seconds field is not supported)',
      ],
    };
  }
  const lists = fields.map((field, i) => parseFieldList(field, FIELDS[i]!));
  const problems = lists.flatMap((list) => list.problems);
  if (problems.length > 0) return { rule: null, problems };

  const [minutes, hours, days, months, weekdays] = lists.map((list) => list.values) as [
    number[],
    number[],
    number[],
    number[],
    number[],
  ];
  const daysRestricted = !fields[2]!.startsWith("*");
  const weekdaysRestricted = !fields[4]!.startsWith("*");
  const rule: CalendarRule = {
    minutesOfDay: hours.flatMap((h) => minutes.map((m) => h * 60 + m)),
    months: new Set(months),
    daysOfMonth: new Set(days),
    lastDayOfMonth: false,
    daysOfWeek: new Set(weekdays.map((d) => d % 7)),
    dayMatch: daysRestricted && weekdaysRestricted ? "or" : "and",
  };
  // A cron that never runs is still a rule (its search ends with null), but reported.
  const never = neverRuns(rule);
  return { rule, problems: never ? [`cron "${expression}" can never run: ${never}`] : [] };
}

/**
 * Why a rule selects no day at all (e.g. "0 0 30 2 *": February has no 30th), or
 * null when it runs. Only a day-of-month that no selected month reaches can cause it:
 * any date falls on every weekday over the years, and "or" rules run on the weekdays.
 */
function neverRuns(rule: CalendarRule): string | null {
  if (rule.dayMatch === "or" || isAll(rule.daysOfMonth, ALL_DAYS_OF_MONTH)) return null;
  const months = [...rule.months];
  const days = [...rule.daysOfMonth];
  if (months.some((month) => days.some((day) => day <= LONGEST_MONTH[month]!))) return null;
  const monthList = months.map((m) => MONTHS[m - 1]).join(", ");
  return `day ${days.join(", ")} does not exist in ${monthList}`;
}
