/**
 * Time zones and daylight saving. The rules: a wall time in the spring-forward gap runs
 * at the end of the gap; a wall time in the fall-back overlap runs once, at its first
 * occurrence; intervals are elapsed time.
 * 2026 changes: Europe/Berlin Mar 29 01:00Z (02:00 -> 03:00) and Oct 25 01:00Z (03:00 -> 02:00);
 * America/New_York Mar 8 07:00Z (02:00 -> 03:00) and Nov 1 06:00Z (02:00 -> 01:00);
 * Australia/Adelaide (+10:30 / +09:30) Apr 4 16:30Z (03:00 -> 02:00) and Oct 3 16:30Z (02:00 -> 03:00).
 */
import { describe, expect, it } from "vitest";
import { offsetChanges, wallToInstant } from "../../../src/core/schedule/zoned-time.js";
import { runs, schedule } from "./support.js";

const wall = (iso: string) => Date.parse(`${iso}Z`); // a wall-clock time, as its fields in UTC
const instant = (iso: string, zone: string) => new Date(wallToInstant(wall(iso), zone)).toISOString();

describe("wall-clock time to instant", () => {
  it("maps a time in the spring-forward gap to the end of the gap", () => {
    expect(instant("2026-03-29T02:30:00", "Europe/Berlin")).toBe("2026-03-29T01:00:00.000Z");
    expect(instant("2026-03-08T02:30:00", "America/New_York")).toBe("2026-03-08T07:00:00.000Z");
    expect(instant("2026-10-04T02:15:00", "Australia/Adelaide")).toBe("2026-10-03T16:30:00.000Z");
    // Lord Howe Island moves its clocks by half an hour: 02:00 -> 02:30.
    expect(instant("2026-10-04T02:15:00", "Australia/Lord_Howe")).toBe("2026-10-03T15:30:00.000Z");
  });

  it("maps a time in the fall-back overlap to its first occurrence", () => {
    expect(instant("2026-10-25T02:30:00", "Europe/Berlin")).toBe("2026-10-25T00:30:00.000Z");
    expect(instant("2026-11-01T01:30:00", "America/New_York")).toBe("2026-11-01T05:30:00.000Z");
    expect(instant("2026-04-05T02:30:00", "Australia/Adelaide")).toBe("2026-04-04T16:00:00.000Z");
  });

  it("maps ordinary times with the offset in force, half-hour zones included", () => {
    expect(instant("2026-07-01T12:00:00", "Europe/Berlin")).toBe("2026-07-01T10:00:00.000Z");
    expect(instant("2026-07-01T12:00:00", "Asia/Kolkata")).toBe("2026-07-01T06:30:00.000Z");
    expect(instant("2026-07-01T12:00:00", "UTC")).toBe("2026-07-01T12:00:00.000Z");
  });

  it("finds the offset changes of a year to the second", () => {
    const changes = offsetChanges("Europe/Berlin", Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1));
    expect(
      changes.map((c) => [new Date(c.at).toISOString(), c.offsetBefore / 3600_000, c.offsetAfter / 3600_000]),
    ).toEqual([
      ["2026-03-29T01:00:00.000Z", 1, 2],
      ["2026-10-25T01:00:00.000Z", 2, 1],
    ]);
    expect(offsetChanges("Asia/Kolkata", Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1))).toEqual([]);
  });
});

describe("schedules across DST", () => {
  it("keeps a daily time at the same wall-clock time (the UTC instant moves)", () => {
    const paris = schedule("daily", "09:00", { timezone: "Europe/Paris" });
    expect(runs(paris, "2026-03-28T00:00:00Z", 3)).toEqual([
      "2026-03-28T08:00:00.000Z",
      "2026-03-29T07:00:00.000Z",
      "2026-03-30T07:00:00.000Z",
    ]);
    expect(runs(paris, "2026-10-24T00:00:00Z", 2)).toEqual(["2026-10-24T07:00:00.000Z", "2026-10-25T08:00:00.000Z"]);
  });

  it("runs a time in the gap at the end of the gap, once", () => {
    expect(runs(schedule("cron", "30 2 * * *", { timezone: "Europe/Berlin" }), "2026-03-28T00:00:00Z", 3)).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z", // 03:00 CEST
      "2026-03-30T00:30:00.000Z",
    ]);
    expect(runs(schedule("daily", "02:30", { timezone: "America/New_York" }), "2026-03-07T00:00:00Z", 3)).toEqual([
      "2026-03-07T07:30:00.000Z",
      "2026-03-08T07:00:00.000Z", // 03:00 EDT
      "2026-03-09T06:30:00.000Z",
    ]);
    // 02:00, 02:30 and 03:00 all fall on 03:00 CEST: one run there, none lost after.
    expect(runs(schedule("cron", "*/30 * * * *", { timezone: "Europe/Berlin" }), "2026-03-29T00:45:00Z", 3)).toEqual([
      "2026-03-29T01:00:00.000Z",
      "2026-03-29T01:30:00.000Z",
      "2026-03-29T02:00:00.000Z",
    ]);
  });

  it("runs a time in the overlap once, at its first occurrence", () => {
    const berlin = schedule("cron", "30 2 * * *", { timezone: "Europe/Berlin" });
    expect(runs(berlin, "2026-10-24T12:00:00Z", 2)).toEqual(["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    const newYork = schedule("daily", "01:30", { timezone: "America/New_York" });
    expect(runs(newYork, "2026-10-31T12:00:00Z", 2)).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"]);
    // Asked during the second pass of the hour (01:10 EST), the 01:30 run has been made.
    expect(runs(newYork, "2026-11-01T06:10:00Z", 1)).toEqual(["2026-11-02T06:30:00.000Z"]);
  });

  it("steps through the repeated hour without running any wall-clock time twice", () => {
    expect(runs(schedule("cron", "*/30 * * * *", { timezone: "America/New_York" }), "2026-11-01T04:45:00Z", 4)).toEqual(
      [
        "2026-11-01T05:00:00.000Z", // 01:00 EDT
        "2026-11-01T05:30:00.000Z", // 01:30 EDT
        "2026-11-01T07:00:00.000Z", // 02:00 EST: 01:00 and 01:30 EST already ran
        "2026-11-01T07:30:00.000Z",
      ],
    );
    expect(runs(schedule("cron", "0 * * * *", { timezone: "Europe/Berlin" }), "2026-10-24T23:30:00Z", 4)).toEqual([
      "2026-10-25T00:00:00.000Z", // 02:00 CEST
      "2026-10-25T02:00:00.000Z", // 03:00 CET
      "2026-10-25T03:00:00.000Z",
      "2026-10-25T04:00:00.000Z",
    ]);
  });

  it("handles a half-hour zone's changes (Australia/Adelaide)", () => {
    const hourly = schedule("cron", "0 * * * *", { timezone: "Australia/Adelaide" });
    expect(runs(hourly, "2026-04-04T14:00:00Z", 4)).toEqual([
      "2026-04-04T14:30:00.000Z", // 01:00 ACDT
      "2026-04-04T15:30:00.000Z", // 02:00 ACDT, first pass
      "2026-04-04T17:30:00.000Z", // 03:00 ACST; 02:00 ACST already ran
      "2026-04-04T18:30:00.000Z",
    ]);
    expect(runs(schedule("daily", "02:30", { timezone: "Australia/Adelaide" }), "2026-10-02T00:00:00Z", 3)).toEqual([
      "2026-10-02T17:00:00.000Z", // 02:30 ACST
      "2026-10-03T16:30:00.000Z", // in the gap: 03:00 ACDT
      "2026-10-04T16:00:00.000Z", // 02:30 ACDT
    ]);
  });

  it("reads startAt and a once time in the zone, with the same rules", () => {
    const gap = schedule("once", "2026-03-29T02:30", { timezone: "Europe/Berlin" });
    expect(runs(gap, "2026-03-01T00:00:00Z", 1)).toEqual(["2026-03-29T01:00:00.000Z"]);
    const overlap = schedule("daily", "09:00", { timezone: "Europe/Berlin", startAt: "2026-10-25T02:30" });
    expect(overlap.startAt).toEqual(new Date("2026-10-25T00:30:00Z"));
  });

  it("keeps intervals in elapsed time, whatever the zone", () => {
    const daily = schedule("interval", "1d", { timezone: "Europe/Berlin", startAt: "2026-03-28T12:00:00Z" });
    expect(runs(daily, "2026-03-28T12:00:00Z", 2)).toEqual(["2026-03-29T12:00:00.000Z", "2026-03-30T12:00:00.000Z"]);
    const hourly = schedule("interval", "1h", { timezone: "America/New_York", startAt: "2026-11-01T04:00:00Z" });
    expect(runs(hourly, "2026-11-01T04:00:00Z", 3)).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T06:00:00.000Z",
      "2026-11-01T07:00:00.000Z",
    ]);
  });
});
