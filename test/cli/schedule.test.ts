/** `apflow schedule ...` on the embedded database. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SchedulePage, TaskView } from "../../src/cli/gateway/gateway.js";
import { cli, REPORT_TREE, tempDir, writeTaskFile } from "./support.js";

let dir: { dir: string; remove(): Promise<void> };
let rootId: string;
let childId: string;
const run = (args: string[]) => cli(args, { cwd: dir.dir });
const json = <T>(text: string) => JSON.parse(text) as T;

beforeAll(async () => {
  dir = await tempDir();
  const file = await writeTaskFile(dir.dir, "report.json", REPORT_TREE);
  const { tasks } = json<{ tasks: TaskView[] }>((await run(["run", file, "--json"])).stdout);
  rootId = tasks[0]!.id;
  childId = tasks[1]!.id;
});
afterAll(() => dir.remove());

describe("apflow schedule", { timeout: 180_000 }, () => {
  it("refuses a bad schedule with every problem, and sets a good one", async () => {
    const bad = await run(["schedule", "add", childId, "weekly", "9-12 25:00", "--timezone", "Mars/Base"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("The schedule has 4 problems; nothing was written");
    expect(bad.stderr).toContain('timezone: time zone "Mars/Base"');
    expect(bad.stderr).toContain('id: task "cpu" is not a root');
    expect(bad.stderr.match(/ {2}- expression: /g)).toHaveLength(2);

    const type = await run(["schedule", "add", rootId, "hourly", "x"]);
    expect(type.code).toBe(2);
    expect(type.stderr).toContain('Schedule type "hourly" is unknown; use one of once, interval, cron');

    const set = await run([
      "schedule",
      "add",
      rootId,
      "cron",
      "0 9 * * 1-5",
      "--timezone",
      "Europe/Berlin",
      "--end",
      "2099-01-01T00:00",
      "--max-runs",
      "5",
      "--json",
    ]);
    expect(set.code).toBe(0);
    expect(json<TaskView>(set.stdout).schedule).toMatchObject({
      type: "cron",
      expression: "0 9 * * 1-5",
      timezone: "Europe/Berlin",
      enabled: true,
      // Read in the schedule's zone: midnight in Berlin is 23:00 UTC.
      endAt: "2098-12-31T23:00:00.000Z",
      maxRuns: 5,
      runCount: 0,
      nextRunAt: expect.any(String),
      description: expect.stringContaining("Europe/Berlin"),
    });

    const human = await run(["schedule", "list"]);
    expect(human.stdout.split("\n")[0]).toMatch(/^ID +NAME +SCHEDULE +NEXT RUN +RUNS +STATE$/);
    expect(human.stdout).toMatch(new RegExp(`${rootId} +report +.*Europe/Berlin.* +0/5 +enabled`));
  });

  it("disables, enables, triggers, exports and removes it", async () => {
    const disabled = json<TaskView>((await run(["schedule", "disable", rootId, "--json"])).stdout);
    expect(disabled.schedule).toMatchObject({ enabled: false, nextRunAt: null });
    const listed = json<SchedulePage>((await run(["schedule", "list", "--disabled", "--json"])).stdout);
    expect(listed.tasks.map((t) => t.id)).toEqual([rootId]);

    const refused = await run(["schedule", "trigger", rootId]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("is disabled; enable it before triggering it");

    expect(json<TaskView>((await run(["schedule", "enable", rootId, "--json"])).stdout).schedule?.enabled).toBe(true);
    const triggered = await run(["schedule", "trigger", rootId]);
    expect(triggered.code).toBe(0);
    expect(triggered.stdout).toMatch(/^report \(\S+\): .+; next run \S+; 1 run so far\.$/m);
    expect(triggered.stderr).toContain("apflow serve");

    const calendar = await run(["schedule", "export-ical"]);
    expect(calendar.stdout).toMatch(/^BEGIN:VCALENDAR\r?\n/);
    expect(calendar.stdout).toContain("SUMMARY:report");
    expect(calendar.stdout).toContain("TZID:Europe/Berlin");

    const removed = json<TaskView>((await run(["schedule", "remove", rootId, "--json"])).stdout);
    expect(removed.schedule).toBeNull();
    expect(json<SchedulePage>((await run(["schedule", "list", "--json"])).stdout)).toEqual({ tasks: [], next: null });
  });
});
