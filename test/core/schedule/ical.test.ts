/** toICalendar: RFC 5545 structure, escaping, folding, and the recurrence of each schedule type. */
import { describe, expect, it } from "vitest";
import { type ICalEntry, type Schedule, toICalendar } from "../../../src/core/schedule/index.js";
import { schedule } from "./support.js";

const now = new Date("2026-01-10T12:00:00Z"); // a Saturday

function entry(id: string, s: Schedule, extra: Partial<ICalEntry> = {}): ICalEntry {
  return { id, name: `job ${id}`, schedule: s, nextRunAt: null, runCount: 0, ...extra };
}

/** The content lines: folded lines joined again (RFC 5545 3.1). */
function contentLines(text: string): string[] {
  expect(text.endsWith("\r\n")).toBe(true);
  return text.replace(/\r\n /g, "").split("\r\n").slice(0, -1);
}

/** The content lines of the VEVENT whose UID is `${id}@apflow`, without BEGIN/END. */
function eventLines(text: string, id: string): string[] {
  const lines = contentLines(text);
  const uid = lines.indexOf(`UID:${id}@apflow`);
  expect(uid).toBeGreaterThan(0);
  const end = lines.indexOf("END:VEVENT", uid);
  return lines.slice(uid - 1, end + 1).filter((l) => l !== "BEGIN:VEVENT" && l !== "END:VEVENT");
}

function property(lines: string[], name: string): string[] {
  return lines.filter((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));
}

describe("toICalendar", () => {
  it("writes a VCALENDAR with CRLF line ends and one VEVENT per entry", () => {
    const text = toICalendar([entry("a", schedule("daily", "09:00", { timezone: "Europe/Paris" }))], {
      now,
      calendarName: "Nightly, weekly; all",
    });
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    const lines = contentLines(text);
    expect(lines.slice(0, 6)).toEqual([
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//apflow//scheduler//EN",
      "CALSCALE:GREGORIAN",
      "METHOD:PUBLISH",
      "X-WR-CALNAME:Nightly\\, weekly\\; all",
    ]);
    expect(lines.at(-1)).toBe("END:VCALENDAR");
    expect(lines.filter((l) => l === "BEGIN:VEVENT")).toHaveLength(1);
    expect(eventLines(text, "a")).toEqual([
      "UID:a@apflow",
      "DTSTAMP:20260110T120000Z",
      "SUMMARY:job a",
      "DESCRIPTION:every day at 09:00 (Europe/Paris)",
      "DTSTART;TZID=Europe/Paris:20260111T090000",
      "DURATION:PT1M",
      "RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
    ]);
  });

  it("adds a VTIMEZONE for each zone used, with yearly rules where the zone has them", () => {
    const text = toICalendar(
      [
        entry("paris", schedule("daily", "09:00", { timezone: "Europe/Paris" })),
        entry("paris2", schedule("daily", "10:00", { timezone: "Europe/Paris" })),
        entry("kolkata", schedule("daily", "09:00", { timezone: "Asia/Kolkata" })),
        entry("utc", schedule("daily", "09:00")),
      ],
      { now },
    );
    const lines = contentLines(text);
    expect(lines.filter((l) => l.startsWith("TZID:"))).toEqual(["TZID:Europe/Paris", "TZID:Asia/Kolkata"]);
    const paris = lines.slice(lines.indexOf("TZID:Europe/Paris"), lines.indexOf("END:VTIMEZONE"));
    expect(paris).toEqual([
      "TZID:Europe/Paris",
      "BEGIN:DAYLIGHT",
      "DTSTART:20250330T020000",
      "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
      "TZOFFSETFROM:+0100",
      "TZOFFSETTO:+0200",
      "END:DAYLIGHT",
      "BEGIN:STANDARD",
      "DTSTART:20251026T030000",
      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
      "TZOFFSETFROM:+0200",
      "TZOFFSETTO:+0100",
      "END:STANDARD",
    ]);
    const kolkata = lines.slice(lines.indexOf("TZID:Asia/Kolkata"), lines.lastIndexOf("END:VTIMEZONE"));
    expect(kolkata).toEqual([
      "TZID:Asia/Kolkata",
      "BEGIN:STANDARD",
      "DTSTART:20250101T000000",
      "TZOFFSETFROM:+0530",
      "TZOFFSETTO:+0530",
      "END:STANDARD",
    ]);
    expect(property(eventLines(text, "utc"), "DTSTART")).toEqual(["DTSTART:20260111T090000Z"]);
    // Yearly rules also for the southern hemisphere's first-Sunday changes.
    const adelaide = contentLines(
      toICalendar([entry("adl", schedule("daily", "09:00", { timezone: "Australia/Adelaide" }))], { now }),
    );
    expect(adelaide.filter((l) => l.startsWith("RRULE:FREQ=YEARLY"))).toEqual([
      "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
    ]);
  });

  it("escapes backslashes, commas, semicolons and line breaks in text", () => {
    const text = toICalendar(
      [entry("x", schedule("daily", "09:00"), { name: "a\\b, c; d\ne\r\nf", url: "https://apflow.test/t/x" })],
      { now },
    );
    const lines = eventLines(text, "x");
    expect(property(lines, "SUMMARY")).toEqual(["SUMMARY:a\\\\b\\, c\\; d\\ne\\nf"]);
    expect(property(lines, "DESCRIPTION")).toEqual(["DESCRIPTION:every day at 09:00 (UTC)\\nhttps://apflow.test/t/x"]);
  });

  it("folds lines longer than 75 octets without splitting a UTF-8 character", () => {
    const name = `Rapport trimestriel ${"é€😀".repeat(20)} fin`;
    const text = toICalendar([entry("long", schedule("daily", "09:00"), { name })], { now });
    const physical = text.split("\r\n").slice(0, -1);
    for (const line of physical) expect(Buffer.byteLength(line, "utf8")).toBeLessThanOrEqual(75);
    const summary = physical.findIndex((l) => l.startsWith("SUMMARY:"));
    expect(physical[summary + 1]!.startsWith(" ")).toBe(true);
    // No piece starts or ends inside a surrogate pair or a multi-byte sequence.
    for (const line of physical) expect(Buffer.from(line, "utf8").toString("utf8")).toBe(line);
    expect(property(eventLines(text, "long"), "SUMMARY")).toEqual([`SUMMARY:${name}`]);
  });

  it("writes the RRULE of each type", () => {
    const rrule = (s: Schedule) => property(eventLines(toICalendar([entry("r", s)], { now }), "r"), "RRULE");
    expect(rrule(schedule("weekly", "1,3,5 09:00"))).toEqual(["RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9;BYMINUTE=0"]);
    expect(rrule(schedule("weekly", "sun,sat 09:00"))).toEqual(["RRULE:FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=9;BYMINUTE=0"]);
    expect(rrule(schedule("monthly", "1,15,L 09:30"))).toEqual([
      "RRULE:FREQ=MONTHLY;BYMONTHDAY=1,15,-1;BYHOUR=9;BYMINUTE=30",
    ]);
    expect(rrule(schedule("daily", "09:00,09:30,17:00,17:30"))).toEqual(["RRULE:FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0,30"]);
    expect(rrule(schedule("cron", "*/15 9-17 * JAN,JUL 1-5"))).toEqual([
      "RRULE:FREQ=MINUTELY;BYMONTH=1,7;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,10,11,12,13,14,15,16,17;BYMINUTE=0,15,30,45",
    ]);
    expect(rrule(schedule("cron", "0 0 1 * *"))).toEqual(["RRULE:FREQ=MINUTELY;BYMONTHDAY=1;BYHOUR=0;BYMINUTE=0"]);
    expect(rrule(schedule("cron", "* * * * *"))).toEqual(["RRULE:FREQ=MINUTELY"]);
    expect(rrule(schedule("interval", "1d"))).toEqual(["RRULE:FREQ=DAILY;INTERVAL=1"]);
    expect(rrule(schedule("interval", "7200"))).toEqual(["RRULE:FREQ=HOURLY;INTERVAL=2"]);
    expect(rrule(schedule("interval", "90m"))).toEqual(["RRULE:FREQ=MINUTELY;INTERVAL=90"]);
    expect(rrule(schedule("interval", "90"))).toEqual(["RRULE:FREQ=SECONDLY;INTERVAL=90"]);
    expect(rrule(schedule("once", "2026-02-01T10:00:00Z"))).toEqual([]);
  });

  it("writes intervals in UTC, being elapsed time", () => {
    const s = schedule("interval", "1d", { timezone: "Europe/Paris", startAt: "2026-01-11T08:00:00Z" });
    const lines = eventLines(toICalendar([entry("i", s)], { now }), "i");
    expect(property(lines, "DTSTART")).toEqual(["DTSTART:20260111T080000Z"]);
  });

  it("lists the next occurrences as RDATEs when no RRULE says the same", () => {
    // Cron ORs the day fields, an RRULE would AND them.
    const vixie = eventLines(
      toICalendar([entry("v", schedule("cron", "0 0 1,15 * MON", { timezone: "Europe/Berlin" }))], { now }),
      "v",
    );
    expect(property(vixie, "RRULE")).toEqual([]);
    expect(property(vixie, "DTSTART")).toEqual(["DTSTART;TZID=Europe/Berlin:20260112T000000"]);
    const rdates = property(vixie, "RDATE");
    expect(rdates).toHaveLength(49);
    expect(rdates.slice(0, 3)).toEqual([
      "RDATE;TZID=Europe/Berlin:20260115T000000",
      "RDATE;TZID=Europe/Berlin:20260119T000000",
      "RDATE;TZID=Europe/Berlin:20260126T000000",
    ]);
    // 09:00 and 17:30 are not every hour with every minute; maxRuns caps the list.
    const times = eventLines(toICalendar([entry("t", schedule("daily", "09:00,17:30", { maxRuns: 3 }))], { now }), "t");
    expect(property(times, "DTSTART")).toEqual(["DTSTART:20260110T173000Z"]);
    expect(property(times, "RDATE")).toEqual(["RDATE:20260111T090000Z", "RDATE:20260111T173000Z"]);
  });

  it("ends the series with COUNT for the runs left, UNTIL for endAt, whichever comes first with both", () => {
    const end = (s: Schedule, runCount = 0) =>
      property(eventLines(toICalendar([entry("e", s, { runCount })], { now }), "e"), "RRULE")[0]!.replace(
        /.*;(?=COUNT|UNTIL)/,
        "",
      );
    expect(end(schedule("daily", "09:00", { maxRuns: 10 }), 4)).toBe("COUNT=6");
    expect(end(schedule("daily", "09:00", { endAt: "2026-03-01T00:00:00+01:00" }))).toBe("UNTIL=20260228T230000Z");
    // Five runs left would end on Jan 15, before endAt.
    expect(end(schedule("daily", "09:00", { maxRuns: 5, endAt: "2026-03-01T00:00:00Z" }))).toBe("COUNT=5");
    // endAt on Jan 12 comes before the 50th run.
    expect(end(schedule("daily", "09:00", { maxRuns: 50, endAt: "2026-01-12T12:00:00Z" }))).toBe(
      "UNTIL=20260112T120000Z",
    );
  });

  it("marks disabled schedules cancelled and leaves out those with no run left", () => {
    const text = toICalendar(
      [
        entry("off", schedule("daily", "09:00", { enabled: false })),
        entry("done", schedule("daily", "09:00", { maxRuns: 2 }), { runCount: 2 }),
        entry("past", schedule("once", "2026-01-01T00:00:00Z")),
        entry("ran", schedule("once", "2026-02-01T00:00:00Z"), { runCount: 1 }),
        entry("stored", schedule("once", "2026-02-01T00:00:00Z"), { nextRunAt: new Date("2026-02-01T00:00:00Z") }),
      ],
      { now },
    );
    const uids = contentLines(text).filter((l) => l.startsWith("UID:"));
    expect(uids).toEqual(["UID:off@apflow", "UID:stored@apflow"]);
    expect(property(eventLines(text, "off"), "STATUS")).toEqual(["STATUS:CANCELLED"]);
    expect(property(eventLines(text, "stored"), "STATUS")).toEqual([]);
    expect(property(eventLines(text, "stored"), "DTSTART")).toEqual(["DTSTART:20260201T000000Z"]);
  });

  it("uses the stored next run as DTSTART", () => {
    const s = schedule("daily", "09:00", { timezone: "America/New_York" });
    const lines = eventLines(
      toICalendar([entry("n", s, { nextRunAt: new Date("2026-02-02T14:00:00Z") })], { now }),
      "n",
    );
    expect(property(lines, "DTSTART")).toEqual(["DTSTART;TZID=America/New_York:20260202T090000"]);
  });
});
