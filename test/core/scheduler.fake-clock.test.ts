/**
 * The scheduler on the memory store with a clock driven by hand: runs happen at
 * their due times (no drift), in a time zone across daylight-saving changes, a run
 * still going makes the next one skipped, downtime follows the missed-run policy,
 * maxRuns and endAt finish a schedule, disabled schedules never run.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { Engine } from "../../src/core/engine.js";
import { ErrorCode } from "../../src/core/errors.js";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import { silentLogger } from "../../src/core/logger.js";
import { ScheduleService, type ScheduleSettingInput } from "../../src/core/schedule-service.js";
import { MISSED_GRACE_MS, Scheduler } from "../../src/core/scheduler.js";
import { TaskService } from "../../src/core/task-service.js";
import type { MissedRunPolicy, TaskEvent } from "../../src/core/types.js";
import { MemoryTaskStore } from "../../src/storage/memory-store.js";
import { newProbe, testExecutors } from "../support/test-executors.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("the scheduler with a fake clock", () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.stop(0);
  });

  async function setup(start: string, missedRuns: MissedRunPolicy = "run_once") {
    const clock = new FakeClock(new Date(start));
    const store = new MemoryTaskStore(clock);
    const bus = new LocalEventBus();
    const published: TaskEvent[] = [];
    bus.subscribe("*", (event) => published.push(event));
    const probe = newProbe();
    const registry = new ExecutorRegistry(testExecutors(probe));
    engine = new Engine({ store, executors: registry, bus, clock, nodeId: "fake", pollIntervalMs: 24 * HOUR });
    const tasks = new TaskService(store, registry, bus, engine);
    const schedules = new ScheduleService(store, tasks, bus, clock);
    const scheduler = new Scheduler({ store, tasks, bus, clock, logger: silentLogger, intervalMs: 1_000, missedRuns });
    await engine.start();

    /** A scheduled one-task tree whose executor is `executor` (gate: runs until the test opens it). */
    const scheduled = async (schedule: ScheduleSettingInput, executor = "noop", name = "job") => {
      const root = await tasks.createTree([{ name, executor }]);
      return schedules.set(root.id, schedule);
    };
    /** Moves the clock to `iso` (without ticking on the way: as if no node was up) and ticks once there. */
    const tickAt = async (iso: string | number) => {
      const target = typeof iso === "number" ? iso : Date.parse(iso);
      await clock.advance(target - clock.now().getTime());
      await scheduler.tick();
      await clock.advance(0);
    };
    const scheduleOf = async (id: string) => (await tasks.requireTask(id)).schedule!;
    const eventsOf = (type: TaskEvent["type"]) => published.filter((e) => e.type === type);
    return { clock, tasks, schedules, probe, scheduled, tickAt, scheduleOf, eventsOf };
  }

  it("runs an interval at its due times however late runs finish (no drift)", async () => {
    const t = await setup("2026-01-05T08:00:00Z");
    const task = await t.scheduled({ type: "interval", expression: "10m" }, "gate");
    // Without startAt, an interval counts from when it was set.
    expect(task.schedule).toMatchObject({ startAt: new Date("2026-01-05T08:00:00Z"), runCount: 0 });
    expect(task.schedule!.nextRunAt).toEqual(new Date("2026-01-05T08:10:00Z"));

    await t.tickAt("2026-01-05T08:09:59Z");
    expect(t.probe.started).toEqual([]);
    await t.tickAt("2026-01-05T08:10:00Z");
    expect(t.probe.started).toEqual(["job"]);
    // The run takes 7 minutes; the next one is still due 10 minutes after the first was.
    await t.clock.advance(7 * MINUTE);
    t.probe.gates.get("job")!();
    await t.clock.advance(0);
    expect((await t.tasks.requireTask(task.id)).status).toBe("completed");
    expect((await t.scheduleOf(task.id)).nextRunAt).toEqual(new Date("2026-01-05T08:20:00Z"));

    // A tick that comes late (within its interval) runs the due time, and the next follows from it.
    await t.tickAt(Date.parse("2026-01-05T08:20:00Z") + 900);
    expect(t.probe.started).toEqual(["job", "job"]);
    expect(await t.scheduleOf(task.id)).toMatchObject({
      runCount: 2,
      lastRunAt: new Date(Date.parse("2026-01-05T08:20:00Z") + 900),
      nextRunAt: new Date("2026-01-05T08:30:00Z"),
    });
    expect(t.eventsOf("schedule_run").map((e) => e.data?.scheduledAt)).toEqual([
      "2026-01-05T08:10:00.000Z",
      "2026-01-05T08:20:00.000Z",
    ]);
  });

  it("runs a 09:00 Europe/Berlin cron at 09:00 local time across the March DST change", async () => {
    const t = await setup("2026-03-27T12:00:00Z");
    const task = await t.scheduled({ type: "cron", expression: "0 9 * * *", timezone: "Europe/Berlin" });
    // CET (UTC+1) until Sunday 29 March 02:00, then CEST (UTC+2).
    const expected = ["2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z", "2026-03-31T07:00:00Z"];
    expect(task.schedule!.nextRunAt).toEqual(new Date(expected[0]!));
    for (const [i, due] of expected.slice(0, -1).entries()) {
      await t.tickAt(Date.parse(due) - 1_000);
      expect((await t.scheduleOf(task.id)).runCount).toBe(i);
      await t.tickAt(due);
      expect(await t.scheduleOf(task.id)).toMatchObject({
        runCount: i + 1,
        lastRunAt: new Date(due),
        nextRunAt: new Date(expected[i + 1]!),
      });
    }
    expect(t.probe.started).toEqual(["job", "job", "job"]);
  });

  it("runs a 09:00 Europe/Berlin cron at 09:00 local time across the October DST change", async () => {
    const t = await setup("2026-10-23T12:00:00Z");
    const task = await t.scheduled({ type: "cron", expression: "0 9 * * *", timezone: "Europe/Berlin" });
    // CEST (UTC+2) until Sunday 25 October 03:00, then CET (UTC+1).
    const expected = ["2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"];
    expect(task.schedule!.nextRunAt).toEqual(new Date(expected[0]!));
    await t.tickAt(expected[0]!);
    expect((await t.scheduleOf(task.id)).nextRunAt).toEqual(new Date(expected[1]!));
    // 07:00Z on the 25th is 08:00 local after the change: not yet.
    await t.tickAt("2026-10-25T07:00:00Z");
    expect((await t.scheduleOf(task.id)).runCount).toBe(1);
    await t.tickAt(expected[1]!);
    expect(await t.scheduleOf(task.id)).toMatchObject({ runCount: 2, nextRunAt: new Date(expected[2]!) });
  });

  it("skips and records a run that falls due while the previous one is still going", async () => {
    const t = await setup("2026-01-05T08:00:00Z");
    const task = await t.scheduled({ type: "interval", expression: "1m" }, "gate");
    await t.tickAt("2026-01-05T08:01:00Z");
    expect(t.probe.started).toEqual(["job"]);
    await t.tickAt("2026-01-05T08:02:00Z");
    expect(t.probe.started).toEqual(["job"]);
    const [skipped] = t.eventsOf("schedule_skipped");
    expect(skipped).toMatchObject({
      taskId: task.id,
      data: { scheduledAt: "2026-01-05T08:02:00.000Z", nextRunAt: "2026-01-05T08:03:00.000Z" },
    });
    expect(skipped!.message).toContain("still going");
    expect(await t.scheduleOf(task.id)).toMatchObject({ runCount: 1, nextRunAt: new Date("2026-01-05T08:03:00Z") });
    // The run in progress was left alone, and once it ends the next due time runs.
    expect((await t.tasks.requireTask(task.id)).status).toBe("in_progress");
    t.probe.gates.get("job")!();
    await t.tickAt("2026-01-05T08:03:00Z");
    expect(t.probe.started).toEqual(["job", "job"]);
    expect((await t.scheduleOf(task.id)).runCount).toBe(2);
  });

  it("makes one catch-up run for the runs missed during downtime (run_once)", async () => {
    const t = await setup("2026-01-05T08:00:00Z", "run_once");
    const task = await t.scheduled({ type: "interval", expression: "1h" });
    // Due at 09:00; no node is up until 14:30: 09:00 runs late, 10:00-14:00 are folded into it.
    await t.tickAt("2026-01-05T14:30:00Z");
    expect(t.probe.started).toEqual(["job"]);
    expect(await t.scheduleOf(task.id)).toMatchObject({ runCount: 1, nextRunAt: new Date("2026-01-05T15:00:00Z") });
    expect(t.eventsOf("schedule_run")[0]).toMatchObject({
      data: { scheduledAt: "2026-01-05T09:00:00.000Z", missed: 5, nextRunAt: "2026-01-05T15:00:00.000Z" },
    });
    expect(t.eventsOf("schedule_missed")).toEqual([]);
  });

  it("skips the runs missed during downtime and records how many (skip), but not a tick that is merely late", async () => {
    const t = await setup("2026-01-05T08:00:00Z", "skip");
    const task = await t.scheduled({ type: "interval", expression: "1h" });
    await t.tickAt("2026-01-05T14:30:00Z");
    expect(t.probe.started).toEqual([]);
    expect(await t.scheduleOf(task.id)).toMatchObject({ runCount: 0, nextRunAt: new Date("2026-01-05T15:00:00Z") });
    const [missed] = t.eventsOf("schedule_missed");
    expect(missed).toMatchObject({
      taskId: task.id,
      data: { scheduledAt: "2026-01-05T09:00:00.000Z", missed: 6, nextRunAt: "2026-01-05T15:00:00.000Z" },
    });
    // Late by less than one interval plus the grace: that is a slow tick, not downtime.
    await t.tickAt(Date.parse("2026-01-05T15:00:00Z") + 1_000 + MISSED_GRACE_MS - 1);
    expect(t.probe.started).toEqual(["job"]);
    expect((await t.scheduleOf(task.id)).runCount).toBe(1);
  });

  it("lets a schedule's own missed-run policy override the node's", async () => {
    const t = await setup("2026-01-05T08:00:00Z", "run_once");
    const task = await t.scheduled({ type: "interval", expression: "1h", missedRuns: "skip" });
    expect(task.schedule!.missedRuns).toBe("skip");
    await t.tickAt("2026-01-05T11:30:00Z");
    expect(t.probe.started).toEqual([]);
    expect(t.eventsOf("schedule_missed")).toHaveLength(1);
  });

  it("finishes a schedule at maxRuns and at endAt, and keeps it visible", async () => {
    const t = await setup("2026-01-05T08:00:00Z");
    const limited = await t.scheduled({ type: "interval", expression: "1m", maxRuns: 2 }, "noop", "limited");
    const ending = await t.scheduled(
      { type: "interval", expression: "1m", endAt: "2026-01-05T08:02:30Z" },
      "noop",
      "ending",
    );
    for (const minute of [1, 2, 3, 4]) await t.tickAt(`2026-01-05T08:0${minute}:00Z`);
    expect(await t.scheduleOf(limited.id)).toMatchObject({ enabled: true, runCount: 2, nextRunAt: null });
    expect(await t.scheduleOf(ending.id)).toMatchObject({ enabled: true, runCount: 2, nextRunAt: null });
    expect(t.probe.started).toEqual(["limited", "ending", "limited", "ending"]);
    expect(await t.schedules.list()).toHaveLength(2);
    // A finished schedule cannot be triggered either.
    await expect(t.schedules.trigger(limited.id, { source: "manual" })).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });
  });

  it("never runs a disabled schedule; enabling resumes at the first time after now", async () => {
    const t = await setup("2026-01-05T08:00:00Z");
    const task = await t.scheduled({ type: "cron", expression: "*/5 * * * *" });
    const disabled = await t.schedules.disable(task.id);
    expect(disabled.schedule).toMatchObject({ enabled: false, nextRunAt: null });
    await t.tickAt("2026-01-05T08:05:00Z");
    await t.tickAt("2026-01-05T08:12:00Z");
    expect(t.probe.started).toEqual([]);
    const enabled = await t.schedules.enable(task.id);
    expect(enabled.schedule).toMatchObject({ enabled: true, nextRunAt: new Date("2026-01-05T08:15:00Z") });
    await t.tickAt("2026-01-05T08:15:00Z");
    expect(t.probe.started).toEqual(["job"]);
  });

  it("triggers a run now that counts but leaves the due time alone, and refuses while the tree runs", async () => {
    const t = await setup("2026-01-05T08:00:00Z");
    const task = await t.scheduled({ type: "daily", expression: "09:00" }, "gate");
    const triggered = await t.schedules.trigger(task.id, { source: "manual" });
    expect(triggered.schedule).toMatchObject({
      runCount: 1,
      lastRunAt: new Date("2026-01-05T08:00:00Z"),
      nextRunAt: new Date("2026-01-05T09:00:00Z"),
    });
    expect(t.eventsOf("schedule_run")[0]).toMatchObject({ data: { source: "manual", runCount: 1 } });
    await t.clock.advance(0);
    expect(t.probe.started).toEqual(["job"]);
    await expect(t.schedules.trigger(task.id, { source: "webhook" })).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
      message: expect.stringContaining("still running"),
    });
    expect((await t.scheduleOf(task.id)).runCount).toBe(1);
  });

  it("refuses a schedule with every problem listed: bad input, a child task, no run left", async () => {
    const t = await setup("2026-01-05T08:00:00Z");
    const root = await t.tasks.createTree([
      { name: "root", executor: "noop" },
      { name: "child", executor: "noop", parentId: "root" },
    ]);
    const [child] = await t.tasks.listTasks({ treeId: root.id, name: "child" });
    const error = await t.schedules
      .set(child!.id, { type: "weekly", expression: "9 25:00", timezone: "Mars/Base", missedRuns: "later" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.VALIDATION_ERROR });
    const paths = (error as { problems: { path: string }[] }).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["expression", "timezone", "missedRuns", "id"]));
    await expect(t.schedules.set(root.id, { type: "once", expression: "2025-12-31T09:00:00Z" })).rejects.toMatchObject({
      code: ErrorCode.VALIDATION_ERROR,
      problems: [expect.objectContaining({ path: "expression", message: expect.stringContaining("no run after now") })],
    });
    expect((await t.tasks.requireTask(root.id)).schedule).toBeNull();
  });
});
