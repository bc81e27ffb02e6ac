/** parseSchedule: every type's expression, the defaults, and every problem reported at once. */
import { describe, expect, it } from "vitest";
import { ApflowError, ErrorCode } from "../../../src/core/errors.js";
import { parseSchedule, SCHEDULE_TYPES } from "../../../src/core/schedule/index.js";
import { problemsOf, runs, schedule } from "./support.js";

describe("parseSchedule", () => {
  it("accepts each type and fills the defaults", () => {
    const examples: Record<string, string> = {
      once: "2026-01-15T09:00:00Z",
      interval: "3600",
      cron: "0 9 * * 1-5",
      daily: "09:00",
      weekly: "1,3,5 09:00",
      monthly: "1,15 09:00",
    };
    for (const type of SCHEDULE_TYPES) {
      expect(parseSchedule({ type, expression: examples[type]! })).toEqual({
        type,
        expression: examples[type],
        timezone: "UTC",
        enabled: true,
        startAt: null,
        endAt: null,
        maxRuns: null,
      });
    }
  });

  it("normalises the type, the expression and the zone's case, and keeps current zone names", () => {
    const s = parseSchedule({ type: " Daily ", expression: "  09:00 ", timezone: "europe/paris", enabled: false });
    expect(s).toMatchObject({ type: "daily", expression: "09:00", timezone: "Europe/Paris", enabled: false });
    // ICU would answer the legacy "Asia/Calcutta"; the name the user wrote is kept.
    expect(schedule("daily", "09:00", { timezone: "Asia/Kolkata" }).timezone).toBe("Asia/Kolkata");
  });

  it("reads startAt and endAt given as Dates or ISO strings, without an offset in the schedule's zone", () => {
    const s = schedule("daily", "09:00", {
      timezone: "Europe/Paris",
      startAt: "2026-07-01T00:00",
      endAt: new Date("2026-08-01T00:00:00Z"),
      maxRuns: 3,
    });
    expect(s.startAt).toEqual(new Date("2026-06-30T22:00:00Z"));
    expect(s.endAt).toEqual(new Date("2026-08-01T00:00:00Z"));
    expect(s.maxRuns).toBe(3);
  });

  it("keeps startAt null for an interval without one (the runtime sets the anchor)", () => {
    expect(schedule("interval", "15m").startAt).toBeNull();
  });

  it("reads once without an offset in the schedule's zone, and with one as given", () => {
    expect(runs(schedule("once", "2026-01-15T09:00", { timezone: "Europe/Paris" }), "2026-01-01T00:00:00Z", 2)).toEqual(
      ["2026-01-15T08:00:00.000Z"],
    );
    expect(runs(schedule("once", "2026-01-15 09:00:30+05:30"), "2026-01-01T00:00:00Z", 1)).toEqual([
      "2026-01-15T03:30:30.000Z",
    ]);
  });

  it("reads intervals in seconds or with a unit", () => {
    const first = (expression: string) =>
      runs(schedule("interval", expression, { startAt: "2026-01-01T00:00:00Z" }), "2026-01-01T00:00:00Z", 1)[0];
    expect(first("3600")).toBe("2026-01-01T01:00:00.000Z");
    expect(first("90s")).toBe("2026-01-01T00:01:30.000Z");
    expect(first("15m")).toBe("2026-01-01T00:15:00.000Z");
    expect(first("2h")).toBe("2026-01-01T02:00:00.000Z");
    expect(first("1d")).toBe("2026-01-02T00:00:00.000Z");
  });

  it("accepts weekday names, ranges and spaced lists in weekly, L in monthly, several daily times", () => {
    const after = "2026-01-01T00:00:00Z"; // a Thursday
    expect(runs(schedule("weekly", "mon, wed 09:00"), after, 2)).toEqual([
      "2026-01-05T09:00:00.000Z",
      "2026-01-07T09:00:00.000Z",
    ]);
    expect(runs(schedule("weekly", "1,3, 09:00"), after, 1)).toEqual(["2026-01-05T09:00:00.000Z"]);
    expect(runs(schedule("weekly", "Friday-sunday 07:00"), after, 3)).toEqual([
      "2026-01-02T07:00:00.000Z",
      "2026-01-03T07:00:00.000Z",
      "2026-01-04T07:00:00.000Z",
    ]);
    expect(runs(schedule("monthly", "15,L 18:00"), after, 2)).toEqual([
      "2026-01-15T18:00:00.000Z",
      "2026-01-31T18:00:00.000Z",
    ]);
    expect(runs(schedule("daily", "17:30, 09:00"), after, 3)).toEqual([
      "2026-01-01T09:00:00.000Z",
      "2026-01-01T17:30:00.000Z",
      "2026-01-02T09:00:00.000Z",
    ]);
  });

  it("lists every problem at once, each with its path, in one VALIDATION_ERROR", () => {
    const error = (() => {
      try {
        parseSchedule({
          type: "hourly",
          expression: "",
          timezone: "Mars/Olympus",
          startAt: "next tuesday",
          endAt: "2026-02-30T00:00:00Z",
          maxRuns: 0,
        });
      } catch (e) {
        return e;
      }
    })() as ApflowError;
    expect(error).toBeInstanceOf(ApflowError);
    expect(error.code).toBe(ErrorCode.VALIDATION_ERROR);
    expect(error.message).toMatch(/^The schedule has 6 problems; nothing was written:/);
    expect(error.problems.map((p) => p.path)).toEqual([
      "type",
      "timezone",
      "expression",
      "startAt",
      "endAt",
      "maxRuns",
    ]);
    expect(error.problems.every((p) => p.code === ErrorCode.VALIDATION_ERROR)).toBe(true);
    expect(error.problems[0]!.message).toBe(
      'schedule type "hourly" is unknown; use one of once, interval, cron, daily, weekly, monthly',
    );
    expect(error.problems[1]!.message).toMatch(/"Mars\/Olympus" is not an IANA zone name; use e.g. "Europe\/Paris"/);
    expect(error.problems[5]!.message).toBe(
      "maxRuns must be a whole number of at least 1 (or null for no limit), got 0",
    );
  });

  it("rejects a blank zone instead of guessing one", () => {
    expect(problemsOf(() => schedule("daily", "09:00", { timezone: " " }))).toEqual([
      'timezone: time zone " " is not an IANA zone name; use e.g. "Europe/Paris", "America/New_York" or "UTC" (the default)',
    ]);
  });

  it("reports every bad cron field, each saying what is allowed", () => {
    expect(problemsOf(() => schedule("cron", "61 25 0 13 8"))).toEqual([
      'expression: cron field 1 (minute) "61" is out of range 0-59',
      'expression: cron field 2 (hour) "25" is out of range 0-23',
      'expression: cron field 3 (day-of-month) "0" is out of range 1-31',
      'expression: cron field 4 (month) "13" is out of range 1-12',
      'expression: cron field 5 (day-of-week) "8" is out of range 0-7',
    ]);
    expect(problemsOf(() => schedule("cron", "*/0 5-1 * FOO MON/x"))).toEqual([
      'expression: cron field 1 (minute) "*/0" has step "0"; a step is a whole number of at least 1',
      'expression: cron field 2 (hour) "5-1" is a backwards range; write the smaller value first',
      'expression: cron field 4 (month) "FOO" is not valid; use a number 1-12 or a name JAN-DEC, a range like 1-5, * or a step like */5, in a comma-separated list',
      'expression: cron field 5 (day-of-week) "MON/x" has step "x"; a step is a whole number of at least 1',
    ]);
    expect(problemsOf(() => schedule("cron", "0 9 * *"))).toEqual([
      'expression: cron "0 9 * *" has 4 fields; it needs 5 (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5" (a seconds field is not supported)',
    ]);
    expect(problemsOf(() => schedule("cron", "@reboot"))).toEqual([
      'expression: cron macro "@reboot" is unknown; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly',
    ]);
  });

  it("rejects crons that can never run", () => {
    expect(problemsOf(() => schedule("cron", "0 0 30 2 *"))).toEqual([
      'expression: cron "0 0 30 2 *" can never run: day 30 does not exist in February',
    ]);
    expect(problemsOf(() => schedule("cron", "0 0 31 4,6,9,11 *"))).toEqual([
      'expression: cron "0 0 31 4,6,9,11 *" can never run: day 31 does not exist in April, June, September, November',
    ]);
    // February 29th exists in leap years, and with a weekday too cron ORs the two.
    expect(schedule("cron", "0 0 29 2 *").expression).toBe("0 0 29 2 *");
    expect(schedule("cron", "0 0 30 2 1").expression).toBe("0 0 30 2 1");
  });

  it("reports bad daily, weekly, monthly, interval and once expressions", () => {
    expect(problemsOf(() => schedule("daily", "25:00,9:60,noon"))).toEqual([
      'expression: daily time "25:00" is not a time HH:MM between 00:00 and 23:59',
      'expression: daily time "9:60" is not a time HH:MM between 00:00 and 23:59',
      'expression: daily time "noon" is not a time HH:MM between 00:00 and 23:59',
    ]);
    expect(problemsOf(() => schedule("daily", "mon 09:00"))).toEqual([
      'expression: daily "mon 09:00" needs times, e.g. "09:00" or "09:00,17:30"',
    ]);
    expect(problemsOf(() => schedule("weekly", "0,8,xyz 24:00"))).toEqual([
      'expression: weekly day "0" is out of range 1-7',
      'expression: weekly day "8" is out of range 1-7',
      'expression: weekly day "xyz" is not valid; use a number 1-7 or a name MON-SUN or a range like 1-5, in a comma-separated list',
      'expression: weekly time "24:00" is not a time HH:MM between 00:00 and 23:59',
    ]);
    expect(problemsOf(() => schedule("weekly", "1,3,5"))).toEqual([
      'expression: weekly "1,3,5" needs days and a time, e.g. "1,3,5 09:00" (1 = Monday ... 7 = Sunday) or "mon-fri 08:30"',
    ]);
    expect(problemsOf(() => schedule("monthly", "0,32,*/2 09:00"))).toEqual([
      'expression: monthly date "0" is out of range 1-31',
      'expression: monthly date "32" is out of range 1-31',
      'expression: monthly date "*/2" is not valid; use a number 1-31 or a range like 1-5, in a comma-separated list',
    ]);
    for (const bad of ["0", "-5", "1w", "soon"]) {
      expect(problemsOf(() => schedule("interval", bad))).toEqual([
        `expression: interval "${bad}" is not a positive whole number of seconds; use e.g. "3600" (seconds) or "90s", "15m", "2h", "1d"`,
      ]);
    }
    expect(problemsOf(() => schedule("interval", "4000d"))).toEqual([
      'expression: interval "4000d" is longer than 10 years; use a cron or monthly schedule for rare runs',
    ]);
    expect(problemsOf(() => schedule("once", "2026-02-29T09:00"))).toEqual([
      'expression: once "2026-02-29T09:00" is not an ISO date-time; use e.g. "2026-01-15T09:00:00Z"',
    ]);
    expect(problemsOf(() => schedule("cron", "   "))).toEqual([
      'expression: the expression is empty; a cron schedule takes e.g. "0 9 * * 1-5" or "@daily"',
    ]);
  });

  it("rejects an end before the start, and a once time outside them", () => {
    expect(
      problemsOf(() => schedule("daily", "09:00", { startAt: "2026-02-01T00:00:00Z", endAt: "2026-01-01T00:00:00Z" })),
    ).toEqual(["endAt: endAt (2026-01-01T00:00:00.000Z) must be after startAt (2026-02-01T00:00:00.000Z)"]);
    expect(
      problemsOf(() =>
        schedule("once", "2026-01-15T09:00:00Z", { startAt: "2026-02-01T00:00:00Z", endAt: "2026-03-01T00:00:00Z" }),
      ),
    ).toEqual([
      "expression: the run time 2026-01-15T09:00:00.000Z is before startAt (2026-02-01T00:00:00.000Z), so it would never run",
    ]);
    expect(problemsOf(() => schedule("once", "2026-04-15T09:00:00Z", { endAt: "2026-03-01T00:00:00Z" }))).toEqual([
      "expression: the run time 2026-04-15T09:00:00.000Z is after endAt (2026-03-01T00:00:00.000Z), so it would never run",
    ]);
    expect(problemsOf(() => schedule("daily", "09:00", { startAt: new Date(Number.NaN) }))).toEqual([
      'startAt: startAt (an invalid Date) is not a valid ISO date-time; use e.g. "2026-01-15T09:00:00Z"',
    ]);
  });
});
