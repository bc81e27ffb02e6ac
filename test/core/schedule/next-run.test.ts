/** nextRun: every type, the limits (startAt, endAt, maxRuns), no drift, month lengths, bounded search. */
import { describe, expect, it } from "vitest";
import { nextRun, type Schedule } from "../../../src/core/schedule/index.js";
import { runs, schedule } from "./support.js";

const at = (iso: string) => new Date(iso);

describe("nextRun", () => {
  it("runs a once schedule once, and never when its time has passed", () => {
    const once = schedule("once", "2026-01-15T09:00:00Z");
    expect(nextRun(once, at("2026-01-01T00:00:00Z"), 0)).toEqual(at("2026-01-15T09:00:00Z"));
    expect(nextRun(once, at("2026-01-01T00:00:00Z"), 1)).toBeNull();
    expect(nextRun(once, at("2026-01-15T09:00:00Z"), 0)).toBeNull();
  });

  it("counts intervals from startAt, strictly after `after`", () => {
    const hourly = schedule("interval", "1h", { startAt: "2026-01-01T09:00:00Z" });
    expect(nextRun(hourly, at("2026-01-01T00:00:00Z"), 0)).toEqual(at("2026-01-01T09:00:00Z"));
    expect(nextRun(hourly, at("2026-01-01T09:00:00Z"), 1)).toEqual(at("2026-01-01T10:00:00Z"));
    expect(nextRun(hourly, at("2026-01-01T09:59:59.999Z"), 1)).toEqual(at("2026-01-01T10:00:00Z"));
  });

  it("adds the interval to `after` when there is no startAt", () => {
    const every15 = schedule("interval", "15m");
    expect(nextRun(every15, at("2026-01-01T09:07:00Z"), 0)).toEqual(at("2026-01-01T09:22:00Z"));
  });

  it("does not drift: the next run depends on the scheduled time, not on when a run finished", () => {
    const hourly = schedule("interval", "3600", { startAt: "2026-01-01T09:00:00Z" });
    // The 10:00 run finished late, at 10:17; the scheduler asks from the scheduled time.
    expect(nextRun(hourly, at("2026-01-01T10:00:00Z"), 2)).toEqual(at("2026-01-01T11:00:00Z"));
    // Asking from the finish time lands on the same grid.
    expect(nextRun(hourly, at("2026-01-01T10:17:00Z"), 2)).toEqual(at("2026-01-01T11:00:00Z"));
    expect(runs(hourly, "2026-01-01T09:00:00Z", 3, 1)).toEqual([
      "2026-01-01T10:00:00.000Z",
      "2026-01-01T11:00:00.000Z",
      "2026-01-01T12:00:00.000Z",
    ]);
    const daily = schedule("daily", "09:00");
    expect(nextRun(daily, at("2026-01-01T09:00:00Z"), 1)).toEqual(at("2026-01-02T09:00:00Z"));
    expect(nextRun(daily, at("2026-01-01T09:42:13Z"), 1)).toEqual(at("2026-01-02T09:00:00Z"));
  });

  it("runs every wall-clock type at its times", () => {
    expect(runs(schedule("daily", "09:00,17:30"), "2026-01-01T12:00:00Z", 3)).toEqual([
      "2026-01-01T17:30:00.000Z",
      "2026-01-02T09:00:00.000Z",
      "2026-01-02T17:30:00.000Z",
    ]);
    // 2026-01-01 is a Thursday; 1 = Monday, 3 = Wednesday, 5 = Friday.
    expect(runs(schedule("weekly", "1,3,5 09:00"), "2026-01-01T00:00:00Z", 4)).toEqual([
      "2026-01-02T09:00:00.000Z",
      "2026-01-05T09:00:00.000Z",
      "2026-01-07T09:00:00.000Z",
      "2026-01-09T09:00:00.000Z",
    ]);
    expect(runs(schedule("weekly", "1-5 08:30"), "2026-01-02T08:30:00Z", 2)).toEqual([
      "2026-01-05T08:30:00.000Z",
      "2026-01-06T08:30:00.000Z",
    ]);
    expect(runs(schedule("weekly", "7 10:00"), "2026-01-01T00:00:00Z", 1)).toEqual(["2026-01-04T10:00:00.000Z"]);
    expect(runs(schedule("monthly", "1,15 09:00"), "2026-01-01T09:00:00Z", 3)).toEqual([
      "2026-01-15T09:00:00.000Z",
      "2026-02-01T09:00:00.000Z",
      "2026-02-15T09:00:00.000Z",
    ]);
    expect(runs(schedule("cron", "0 9 * * 1-5"), "2026-01-02T09:00:00Z", 1)).toEqual(["2026-01-05T09:00:00.000Z"]);
  });

  it("skips the months without the date of a monthly schedule", () => {
    expect(runs(schedule("monthly", "31 09:00"), "2026-01-01T00:00:00Z", 7)).toEqual([
      "2026-01-31T09:00:00.000Z",
      "2026-03-31T09:00:00.000Z",
      "2026-05-31T09:00:00.000Z",
      "2026-07-31T09:00:00.000Z",
      "2026-08-31T09:00:00.000Z",
      "2026-10-31T09:00:00.000Z",
      "2026-12-31T09:00:00.000Z",
    ]);
    expect(runs(schedule("monthly", "30 09:00"), "2028-01-31T00:00:00Z", 1)).toEqual(["2028-03-30T09:00:00.000Z"]);
  });

  it("runs L on the last day of each month, leap days included", () => {
    expect(runs(schedule("monthly", "L 23:00"), "2027-01-01T00:00:00Z", 3)).toEqual([
      "2027-01-31T23:00:00.000Z",
      "2027-02-28T23:00:00.000Z",
      "2027-03-31T23:00:00.000Z",
    ]);
    expect(runs(schedule("monthly", "L 23:00"), "2028-02-01T00:00:00Z", 2)).toEqual([
      "2028-02-29T23:00:00.000Z",
      "2028-03-31T23:00:00.000Z",
    ]);
    // "29,L" on a leap February is one run, not two.
    expect(runs(schedule("monthly", "29,L 23:00"), "2028-02-01T00:00:00Z", 2)).toEqual([
      "2028-02-29T23:00:00.000Z",
      "2028-03-29T23:00:00.000Z",
    ]);
  });

  it("starts no earlier than startAt, an occurrence at startAt included", () => {
    const daily = schedule("daily", "09:00", { startAt: "2026-03-10T09:00:00Z" });
    expect(nextRun(daily, at("2026-01-01T00:00:00Z"), 0)).toEqual(at("2026-03-10T09:00:00Z"));
    const later = schedule("daily", "09:00", { startAt: "2026-03-10T09:00:01Z" });
    expect(nextRun(later, at("2026-01-01T00:00:00Z"), 0)).toEqual(at("2026-03-11T09:00:00Z"));
  });

  it("ends after endAt, an occurrence at endAt included", () => {
    const daily = schedule("daily", "09:00", { endAt: "2026-01-03T09:00:00Z" });
    expect(runs(daily, "2026-01-01T00:00:00Z", 5)).toEqual([
      "2026-01-01T09:00:00.000Z",
      "2026-01-02T09:00:00.000Z",
      "2026-01-03T09:00:00.000Z",
    ]);
    const interval = schedule("interval", "1d", { startAt: "2026-01-01T00:00:00Z", endAt: "2026-01-02T12:00:00Z" });
    expect(runs(interval, "2026-01-01T00:00:00Z", 5)).toEqual(["2026-01-02T00:00:00.000Z"]);
  });

  it("stops at maxRuns", () => {
    const three = schedule("daily", "09:00", { maxRuns: 3 });
    expect(runs(three, "2026-01-01T00:00:00Z", 10)).toHaveLength(3);
    expect(nextRun(three, at("2026-01-01T00:00:00Z"), 2)).toEqual(at("2026-01-01T09:00:00Z"));
    expect(nextRun(three, at("2026-01-01T00:00:00Z"), 3)).toBeNull();
    expect(nextRun(schedule("interval", "1h", { maxRuns: 1 }), at("2026-01-01T00:00:00Z"), 1)).toBeNull();
  });

  it("ignores enabled: firing a disabled schedule is the caller's decision", () => {
    const disabled = schedule("daily", "09:00", { enabled: false });
    expect(nextRun(disabled, at("2026-01-01T00:00:00Z"), 0)).toEqual(at("2026-01-01T09:00:00Z"));
  });

  it("gives up with null after a bounded search for a cron that can never run", () => {
    // parseSchedule rejects it; a schedule stored some other way must not hang the scheduler.
    const never: Schedule = { ...schedule("cron", "0 0 29 2 *"), expression: "0 0 30 2 *" };
    expect(nextRun(never, at("2026-01-01T00:00:00Z"), 0)).toBeNull();
  });

  it("throws a validation error naming the problem for an unreadable stored schedule", () => {
    const broken: Schedule = { ...schedule("cron", "@daily"), expression: "0 99 * * *" };
    expect(() => nextRun(broken, at("2026-01-01T00:00:00Z"), 0)).toThrow(
      /stored schedule has 1 problem[\s\S]*cron field 2 \(hour\) "99" is out of range 0-23/,
    );
  });
});
