/**
 * Schedules through the GraphQL API over real HTTP: the mutations, Task.schedule,
 * Query.scheduledTasks (ordered, paged), the iCalendar query, and the errors.
 * The scheduler loop is off here: runs come from triggerTaskSchedule only.
 */
import { describe, expect, it } from "vitest";
import { graphql } from "../../src/client/gql/index.js";
import { eventually } from "../support/harness.js";
import { startTestServer, useTestServer } from "../support/server.js";

const CreateJob = graphql(`
  mutation CreateScheduledJob($input: CreateTaskTreeInput!) {
    createTaskTree(input: $input) {
      id
      children {
        id
      }
    }
  }
`);

const SetSchedule = graphql(`
  mutation SetSchedule($id: ID!, $input: ScheduleInput!) {
    setTaskSchedule(id: $id, input: $input) {
      id
      schedule {
        type
        expression
        timezone
        enabled
        startAt
        endAt
        nextRunAt
        lastRunAt
        maxRuns
        runCount
        missedRuns
        description
      }
    }
  }
`);

const ToggleSchedule = graphql(`
  mutation ToggleSchedule($id: ID!, $enable: Boolean!) {
    enableTaskSchedule(id: $id) @include(if: $enable) {
      schedule {
        enabled
        nextRunAt
      }
    }
    disableTaskSchedule(id: $id) @skip(if: $enable) {
      schedule {
        enabled
        nextRunAt
      }
    }
  }
`);

const ClearSchedule = graphql(`
  mutation ClearSchedule($id: ID!) {
    clearTaskSchedule(id: $id) {
      schedule {
        type
      }
    }
  }
`);

const TriggerSchedule = graphql(`
  mutation TriggerSchedule($id: ID!) {
    triggerTaskSchedule(id: $id) {
      status
      schedule {
        runCount
        lastRunAt
        nextRunAt
      }
    }
  }
`);

const ScheduledTasks = graphql(`
  query ScheduledTasks($enabled: Boolean, $first: Int, $after: String) {
    scheduledTasks(enabled: $enabled, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        endCursor
      }
      edges {
        cursor
        node {
          name
          children {
            name
          }
          schedule {
            nextRunAt
          }
        }
      }
    }
  }
`);

const SchedulesICal = graphql(`
  query SchedulesICal($includeDisabled: Boolean) {
    schedulesICal(includeDisabled: $includeDisabled)
  }
`);

const ScheduleEvents = graphql(`
  query ScheduleEvents($id: ID!) {
    task(id: $id) {
      schedule {
        runCount
      }
      events(first: 100) {
        edges {
          node {
            type
            message
          }
        }
      }
    }
  }
`);

describe("schedules through GraphQL", () => {
  const s = useTestServer("pglite", {
    apflow: { scheduler: { enabled: false, intervalMs: 1_000, missedRuns: "run_once" } },
  });

  const job = async (name: string, withChild = false) => {
    const result = await s.request(CreateJob, {
      input: {
        tasks: [
          { name, executor: "system_info_executor", inputs: { resource: "cpu" } },
          ...(withChild
            ? [{ name: `${name}-child`, executor: "system_info_executor", parentId: name, inputs: { resource: "cpu" } }]
            : []),
        ],
      },
    });
    expect(result.errors).toBeUndefined();
    return result.data!.createTaskTree;
  };

  it("sets a schedule and shows it on the task, with its description and next run", async () => {
    const { id } = await job("nightly");
    const before = Date.now();
    const result = await s.request(SetSchedule, {
      id,
      input: {
        type: "DAILY",
        expression: "09:00",
        timezone: "Europe/Berlin",
        maxRuns: 10,
        missedRuns: "SKIP",
        endAt: "2099-01-01T00:00:00Z",
      },
    });
    expect(result.errors).toBeUndefined();
    const schedule = result.data!.setTaskSchedule.schedule!;
    expect(schedule).toMatchObject({
      type: "DAILY",
      expression: "09:00",
      timezone: "Europe/Berlin",
      enabled: true,
      startAt: null,
      endAt: "2099-01-01T00:00:00.000Z",
      lastRunAt: null,
      maxRuns: 10,
      runCount: 0,
      missedRuns: "SKIP",
    });
    expect(schedule.description).toBe("every day at 09:00, until 2099-01-01 01:00, at most 10 runs (Europe/Berlin)");
    const next = Date.parse(schedule.nextRunAt!);
    expect(next).toBeGreaterThan(before);
    expect(next - before).toBeLessThanOrEqual(25 * 3600_000);
  });

  it("reports every problem of a schedule, and refuses one on a child or an unknown task", async () => {
    const { id, children } = await job("with-child", true);
    const bad = await s.request(SetSchedule, {
      id,
      input: { type: "CRON", expression: "61 * * *", timezone: "Nowhere/City", maxRuns: 0 },
    });
    expect(bad.data).toBeNull();
    expect(bad.errors![0]!.extensions).toMatchObject({ code: "VALIDATION_ERROR" });
    const paths = (bad.errors![0]!.extensions!.problems as { path: string }[]).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(["expression", "timezone", "maxRuns"]));

    const child = await s.request(SetSchedule, { id: children[0]!.id, input: { type: "INTERVAL", expression: "1h" } });
    expect(child.errors![0]!.extensions).toMatchObject({
      code: "VALIDATION_ERROR",
      problems: [expect.objectContaining({ path: "id", message: expect.stringContaining("not a root") })],
    });
    const unknown = await s.request(SetSchedule, { id: "no-such-task", input: { type: "INTERVAL", expression: "1h" } });
    expect(unknown.errors![0]!.extensions).toMatchObject({ code: "NOT_FOUND" });
    const trigger = await s.request(TriggerSchedule, { id });
    expect(trigger.errors![0]).toMatchObject({
      message: expect.stringContaining("has no schedule"),
      extensions: { code: "NOT_FOUND" },
    });
  });

  it("lists scheduled tasks soonest first, disabled last, in pages with a total", async () => {
    // A fresh server, so the list holds only this test's schedules.
    const own = await startTestServer("pglite", {
      apflow: { scheduler: { enabled: false, intervalMs: 1_000, missedRuns: "run_once" } },
    });
    try {
      const create = async (name: string, minutes: number) => {
        const { id } = (
          await own.request(CreateJob, {
            input: { tasks: [{ name, executor: "system_info_executor", inputs: { resource: "cpu" } }] },
          })
        ).data!.createTaskTree;
        const set = await own.request(SetSchedule, { id, input: { type: "INTERVAL", expression: `${minutes}m` } });
        expect(set.errors).toBeUndefined();
        return id;
      };
      await create("in-30m", 30);
      await create("in-10m", 10);
      const off = await create("off", 5);
      await create("in-20m", 20);
      expect((await own.request(ToggleSchedule, { id: off, enable: false })).data).toEqual({
        disableTaskSchedule: { schedule: { enabled: false, nextRunAt: null } },
      });

      const first = await own.request(ScheduledTasks, { first: 2 });
      expect(first.errors).toBeUndefined();
      const page1 = first.data!.scheduledTasks;
      expect(page1.totalCount).toBe(4);
      expect(page1.edges.map((e) => e.node.name)).toEqual(["in-10m", "in-20m"]);
      expect(page1.edges[0]!.node.children).toEqual([]);
      expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      const second = await own.request(ScheduledTasks, { first: 2, after: page1.pageInfo.endCursor });
      const page2 = second.data!.scheduledTasks;
      expect(page2.edges.map((e) => e.node.name)).toEqual(["in-30m", "off"]);
      expect(page2.edges[1]!.node.schedule).toEqual({ nextRunAt: null });
      expect(page2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

      const enabledOnly = await own.request(ScheduledTasks, { enabled: true });
      expect(enabledOnly.data!.scheduledTasks.totalCount).toBe(3);
      const disabledOnly = await own.request(ScheduledTasks, { enabled: false });
      expect(disabledOnly.data!.scheduledTasks.edges.map((e) => e.node.name)).toEqual(["off"]);

      const tooMany = await own.request(ScheduledTasks, { first: 501 });
      expect(tooMany.errors![0]!.extensions).toMatchObject({ code: "VALIDATION_ERROR" });
      const badCursor = await own.request(ScheduledTasks, { after: "not a cursor" });
      expect(badCursor.errors![0]!.extensions).toMatchObject({ code: "VALIDATION_ERROR" });

      // iCalendar: enabled schedules, and the disabled one on request.
      const ical = (await own.request(SchedulesICal, {})).data!.schedulesICal;
      expect(ical).toMatch(/^BEGIN:VCALENDAR\r\n/);
      expect(ical.match(/BEGIN:VEVENT/g)).toHaveLength(3);
      expect(ical).toContain("SUMMARY:in-10m");
      expect(ical).not.toContain("SUMMARY:off");
      const all = (await own.request(SchedulesICal, { includeDisabled: true })).data!.schedulesICal;
      expect(all).toContain("SUMMARY:off");

      const enabled = await own.request(ToggleSchedule, { id: off, enable: true });
      expect(enabled.data!.enableTaskSchedule!.schedule!.enabled).toBe(true);
      expect(Date.parse(enabled.data!.enableTaskSchedule!.schedule!.nextRunAt!)).toBeGreaterThan(Date.now());
      const cleared = await own.request(ClearSchedule, { id: off });
      expect(cleared.data!.clearTaskSchedule.schedule).toBeNull();
      expect((await own.request(ScheduledTasks, {})).data!.scheduledTasks.totalCount).toBe(3);
    } finally {
      await own.close();
    }
  });

  it("triggers a run now that counts, records it, and leaves the next due time", async () => {
    const { id } = await job("on-demand");
    const set = await s.request(SetSchedule, { id, input: { type: "WEEKLY", expression: "mon 06:00" } });
    const nextRunAt = set.data!.setTaskSchedule.schedule!.nextRunAt;
    const triggered = await s.request(TriggerSchedule, { id });
    expect(triggered.errors).toBeUndefined();
    expect(triggered.data!.triggerTaskSchedule.schedule).toMatchObject({ runCount: 1, nextRunAt });
    await s.apflow.waitForTree(id);
    const read = await s.request(ScheduleEvents, { id });
    const types = read.data!.task!.events.edges.map((e) => e.node.type);
    expect(types).toEqual(expect.arrayContaining(["QUEUED", "STARTED", "COMPLETED", "SCHEDULE_RUN"]));
    expect(read.data!.task!.events.edges.find((e) => e.node.type === "SCHEDULE_RUN")!.node.message).toBe(
      "run by a manual trigger",
    );

    await s.request(ToggleSchedule, { id, enable: false });
    const disabled = await s.request(TriggerSchedule, { id });
    expect(disabled.errors![0]).toMatchObject({
      message: expect.stringContaining("disabled"),
      extensions: { code: "CONFLICT" },
    });
  });

  it("runs due schedules on the leader by itself (the single embedded node leads)", async () => {
    const leader = await startTestServer("pglite", {
      apflow: { scheduler: { enabled: true, intervalMs: 100, missedRuns: "run_once" } },
    });
    try {
      const { id } = (
        await leader.request(CreateJob, {
          input: { tasks: [{ name: "every-second", executor: "system_info_executor", inputs: { resource: "cpu" } }] },
        })
      ).data!.createTaskTree;
      expect((await leader.request(SetSchedule, { id, input: { type: "INTERVAL", expression: "1s" } })).errors).toBe(
        undefined,
      );
      await eventually(async () => (await leader.apflow.getTask(id))!.schedule!.runCount >= 2, 20_000);
      const runs = (await leader.apflow.events(id)).filter((e) => e.type === "schedule_run");
      expect(runs[0]).toMatchObject({ data: { source: "schedule", runCount: 1 } });
    } finally {
      await leader.close();
    }
  });
});
