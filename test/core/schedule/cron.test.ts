/** Cron features, checked through the runs they select (UTC, so no DST here). */
import { describe, expect, it } from "vitest";
import { runs, schedule } from "./support.js";

const cron = (expression: string, after: string, count: number) => runs(schedule("cron", expression), after, count);
const times = (list: string[]) => list.map((iso) => iso.slice(0, 16));

describe("cron", () => {
  it("selects lists, ranges and steps", () => {
    expect(times(cron("0,30 9,17 * * *", "2026-01-01T00:00:00Z", 5))).toEqual([
      "2026-01-01T09:00",
      "2026-01-01T09:30",
      "2026-01-01T17:00",
      "2026-01-01T17:30",
      "2026-01-02T09:00",
    ]);
    expect(times(cron("0 9-11 * * *", "2026-01-01T09:00:00Z", 3))).toEqual([
      "2026-01-01T10:00",
      "2026-01-01T11:00",
      "2026-01-02T09:00",
    ]);
    expect(times(cron("*/15 * * * *", "2026-01-01T00:07:00Z", 3))).toEqual([
      "2026-01-01T00:15",
      "2026-01-01T00:30",
      "2026-01-01T00:45",
    ]);
    expect(times(cron("10-50/20 * * * *", "2026-01-01T00:00:00Z", 4))).toEqual([
      "2026-01-01T00:10",
      "2026-01-01T00:30",
      "2026-01-01T00:50",
      "2026-01-01T01:10",
    ]);
    // "a/n" runs from a to the end of the field.
    expect(times(cron("5/20 * * * *", "2026-01-01T00:00:00Z", 4))).toEqual([
      "2026-01-01T00:05",
      "2026-01-01T00:25",
      "2026-01-01T00:45",
      "2026-01-01T01:05",
    ]);
  });

  it("reads month and weekday names in any case, also in ranges", () => {
    expect(times(cron("0 9 * jul,DEC Mon-Fri", "2026-06-15T00:00:00Z", 3))).toEqual([
      "2026-07-01T09:00", // a Wednesday
      "2026-07-02T09:00",
      "2026-07-03T09:00",
    ]);
  });

  it("takes 0, 7 and SUN for Sunday", () => {
    const sundays = ["2026-01-04T09:00", "2026-01-11T09:00"];
    for (const day of ["0", "7", "SUN", "sun"]) {
      expect(times(cron(`0 9 * * ${day}`, "2026-01-01T00:00:00Z", 2))).toEqual(sundays);
    }
    expect(times(cron("0 9 * * 5-7", "2026-01-01T00:00:00Z", 4))).toEqual([
      "2026-01-02T09:00",
      "2026-01-03T09:00",
      "2026-01-04T09:00",
      "2026-01-09T09:00",
    ]);
  });

  it("runs on a day matching EITHER day field when both are restricted (Vixie)", () => {
    // The 1st and 15th, and every Monday.
    expect(times(cron("0 0 1,15 * MON", "2026-01-01T00:00:00Z", 6))).toEqual([
      "2026-01-05T00:00",
      "2026-01-12T00:00",
      "2026-01-15T00:00",
      "2026-01-19T00:00",
      "2026-01-26T00:00",
      "2026-02-01T00:00",
    ]);
  });

  it("ANDs the day fields when one starts with * (also with a step), as Vixie does", () => {
    // Odd days that are Mondays: Jan 5, 19; Feb 9, 23 (2026).
    expect(times(cron("0 0 */2 * 1", "2026-01-01T00:00:00Z", 4))).toEqual([
      "2026-01-05T00:00",
      "2026-01-19T00:00",
      "2026-02-09T00:00",
      "2026-02-23T00:00",
    ]);
    expect(times(cron("0 0 13 * *", "2026-01-01T00:00:00Z", 2))).toEqual(["2026-01-13T00:00", "2026-02-13T00:00"]);
  });

  it("expands the macros", () => {
    const after = "2026-01-01T10:30:00Z"; // a Thursday
    expect(times(cron("@hourly", after, 1))).toEqual(["2026-01-01T11:00"]);
    expect(times(cron("@daily", after, 1))).toEqual(["2026-01-02T00:00"]);
    expect(times(cron("@midnight", after, 1))).toEqual(["2026-01-02T00:00"]);
    expect(times(cron("@weekly", after, 1))).toEqual(["2026-01-04T00:00"]);
    expect(times(cron("@monthly", after, 1))).toEqual(["2026-02-01T00:00"]);
    expect(times(cron("@yearly", after, 1))).toEqual(["2027-01-01T00:00"]);
    expect(times(cron("@ANNUALLY", after, 1))).toEqual(["2027-01-01T00:00"]);
  });

  it("finds February 29th across the non-leap year 2100", () => {
    expect(times(cron("0 0 29 2 *", "2026-01-01T00:00:00Z", 2))).toEqual(["2028-02-29T00:00", "2032-02-29T00:00"]);
    expect(times(cron("0 0 29 2 *", "2096-03-01T00:00:00Z", 1))).toEqual(["2104-02-29T00:00"]);
  });
});
