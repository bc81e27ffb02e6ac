/** describeSchedule: one readable line per schedule, in the schedule's zone. */
import { describe, expect, it } from "vitest";
import { describeSchedule } from "../../../src/core/schedule/index.js";
import { schedule } from "./support.js";

describe("describeSchedule", () => {
  it("describes each type", () => {
    expect(describeSchedule(schedule("daily", "09:00", { timezone: "Europe/Paris" }))).toBe(
      "every day at 09:00 (Europe/Paris)",
    );
    expect(describeSchedule(schedule("daily", "17:30,09:00"))).toBe("every day at 09:00, 17:30 (UTC)");
    expect(describeSchedule(schedule("interval", "3600"))).toBe("every 1h");
    expect(describeSchedule(schedule("interval", "5400"))).toBe("every 1h 30m");
    expect(describeSchedule(schedule("interval", "90s"))).toBe("every 1m 30s");
    expect(describeSchedule(schedule("cron", "0 9 * * 1-5"))).toBe("at 0 9 * * 1-5 (UTC)");
    expect(describeSchedule(schedule("weekly", "1-5 08:30"))).toBe("every Mon-Fri at 08:30 (UTC)");
    expect(describeSchedule(schedule("weekly", "sun,mon,wed 08:30"))).toBe("every Mon, Wed, Sun at 08:30 (UTC)");
    expect(describeSchedule(schedule("monthly", "1,15 09:00"))).toBe("every month on day 1, 15 at 09:00 (UTC)");
    expect(describeSchedule(schedule("monthly", "L 18:00"))).toBe("every month on the last day at 18:00 (UTC)");
    expect(describeSchedule(schedule("once", "2026-01-15T08:00:00Z", { timezone: "Europe/Paris" }))).toBe(
      "once at 2026-01-15 09:00 (Europe/Paris)",
    );
  });

  it("adds the limits, dates in the schedule's zone", () => {
    const limited = schedule("daily", "09:00", {
      timezone: "America/New_York",
      startAt: "2026-01-01T00:00",
      endAt: "2026-06-30T18:00",
      maxRuns: 10,
    });
    expect(describeSchedule(limited)).toBe(
      "every day at 09:00, from 2026-01-01 00:00, until 2026-06-30 18:00, at most 10 runs (America/New_York)",
    );
    expect(describeSchedule(schedule("interval", "15m", { maxRuns: 1 }))).toBe("every 15m, at most 1 run");
    expect(describeSchedule(schedule("interval", "15m", { startAt: "2026-01-01T00:00:00Z" }))).toBe(
      "every 15m, from 2026-01-01 00:00 (UTC)",
    );
  });
});
