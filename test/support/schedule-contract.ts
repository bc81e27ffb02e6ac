/**
 * The schedule part of the storage contract, run against every TaskStore (memory,
 * PGlite, PostgreSQL): setting and clearing, enabling, listing in due order with
 * keyset pages, claiming due schedules, and recording runs atomically.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { ErrorCode } from "../../src/core/errors.js";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import type { TaskStore } from "../../src/core/ports.js";
import { TaskService } from "../../src/core/task-service.js";
import type { TaskSchedule } from "../../src/core/types.js";
import type { StoreFactory } from "./engine-contract.js";
import { newProbe, testExecutors } from "./test-executors.js";

const at = (iso: string) => new Date(iso);

function schedule(overrides: Partial<TaskSchedule> = {}): TaskSchedule {
  return {
    type: "interval",
    expression: "1h",
    timezone: "Europe/Berlin",
    enabled: true,
    startAt: at("2026-01-05T08:00:00Z"),
    endAt: at("2026-12-31T00:00:00Z"),
    maxRuns: 5,
    nextRunAt: at("2026-01-05T09:00:00Z"),
    lastRunAt: null,
    runCount: 0,
    missedRuns: "skip",
    ...overrides,
  };
}

export function defineScheduleContract(label: string, factory: () => StoreFactory) {
  describe(`schedule storage contract on ${label}`, () => {
    let f: StoreFactory;
    let store: TaskStore;
    let tasks: TaskService;

    beforeEach(async () => {
      f = factory();
      store = await f.open();
      tasks = new TaskService(store, new ExecutorRegistry(testExecutors(newProbe())), new LocalEventBus(), null);
    });
    afterEach(async () => {
      await store.close();
      await f.cleanup?.();
    });

    const tree = async (id: string) => (await tasks.createTree([{ id, name: id, executor: "noop" }])).id;

    it("sets a schedule on a root with an updated event, reads it back, and clears it", async () => {
      const id = await tree("root");
      await tasks.createTree([
        { id: "r2", name: "r2", executor: "noop" },
        { id: "kid", name: "kid", executor: "noop", parentId: "r2" },
      ]);
      const events = await store.setSchedule(id, schedule());
      expect(events).toMatchObject([{ taskId: id, type: "updated", data: { fields: ["schedule"] } }]);
      expect((await store.getTask(id))!.schedule).toEqual(schedule());
      expect((await store.listTasks({ treeId: id }))[0]!.schedule).toEqual(schedule());

      await expect(store.setSchedule("kid", schedule())).rejects.toMatchObject({ code: ErrorCode.VALIDATION_ERROR });
      expect((await store.getTask("kid"))!.schedule).toBeNull();
      await expect(store.setSchedule("ghost", schedule())).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });

      await store.setSchedule(id, null);
      expect((await store.getTask(id))!.schedule).toBeNull();
    });

    it("enables and disables a schedule with its next due time; a task without one is NOT_FOUND", async () => {
      const id = await tree("root");
      await store.setSchedule(id, schedule({ runCount: 3 }));
      await store.setScheduleEnabled(id, false, null);
      expect((await store.getTask(id))!.schedule).toMatchObject({ enabled: false, nextRunAt: null, runCount: 3 });
      const events = await store.setScheduleEnabled(id, true, at("2026-02-01T00:00:00Z"));
      expect(events).toMatchObject([{ type: "updated" }]);
      expect((await store.getTask(id))!.schedule).toMatchObject({
        enabled: true,
        nextRunAt: at("2026-02-01T00:00:00Z"),
      });
      const plain = await tree("plain");
      await expect(store.setScheduleEnabled(plain, true, null)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    });

    it("lists scheduled tasks by next run, those without one last, in keyset pages", async () => {
      const due = {
        "a-late": "2026-01-05T12:00:00Z",
        "b-early": "2026-01-05T09:00:00Z",
        "c-tie": "2026-01-05T10:00:00Z",
        "d-tie": "2026-01-05T10:00:00Z",
      };
      for (const [id, next] of Object.entries(due))
        await store.setSchedule(await tree(id), schedule({ nextRunAt: at(next) }));
      for (const id of ["e-off", "f-off"]) {
        await store.setSchedule(await tree(id), schedule({ enabled: false, nextRunAt: null }));
      }
      await tree("unscheduled");
      const order = ["b-early", "c-tie", "d-tie", "a-late", "e-off", "f-off"];
      expect((await store.listScheduled({ limit: 10 })).map((t) => t.id)).toEqual(order);
      expect((await store.listScheduled({ limit: 10, enabled: false })).map((t) => t.id)).toEqual(["e-off", "f-off"]);
      expect((await store.listScheduled({ limit: 10, enabled: true })).map((t) => t.id)).toEqual(order.slice(0, 4));

      const pages: string[][] = [];
      let after: { nextRunAt: Date | null; id: string } | undefined;
      for (;;) {
        const page = await store.listScheduled({ limit: 2, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        pages.push(page.map((t) => t.id));
        const last = page.at(-1)!;
        after = { nextRunAt: last.schedule!.nextRunAt, id: last.id };
      }
      expect(pages).toEqual([order.slice(0, 2), order.slice(2, 4), order.slice(4)]);
    });

    it("claims enabled schedules due by now, earliest first, up to the limit", async () => {
      await store.setSchedule(await tree("later"), schedule({ nextRunAt: at("2026-01-05T09:00:01Z") }));
      await store.setSchedule(await tree("second"), schedule({ nextRunAt: at("2026-01-05T09:00:00Z") }));
      await store.setSchedule(await tree("first"), schedule({ nextRunAt: at("2026-01-05T08:00:00Z") }));
      await store.setSchedule(await tree("third"), schedule({ nextRunAt: at("2026-01-05T09:00:00Z") }));
      await store.setSchedule(await tree("off"), schedule({ enabled: false, nextRunAt: at("2026-01-05T07:00:00Z") }));
      const now = at("2026-01-05T09:00:00Z");
      expect((await store.claimDueSchedules(now, 10)).map((t) => t.id)).toEqual(["first", "second", "third"]);
      expect((await store.claimDueSchedules(now, 2)).map((t) => t.id)).toEqual(["first", "second"]);
    });

    it("records a run, skip or miss with its event, moving nextRunAt only from the due time it read", async () => {
      const id = await tree("root");
      await store.setSchedule(id, schedule());
      const ran = await store.recordSchedule(id, {
        type: "schedule_run",
        at: at("2026-01-05T09:00:02Z"),
        expectedNextRunAt: at("2026-01-05T09:00:00Z"),
        nextRunAt: at("2026-01-05T10:00:00Z"),
        message: "scheduled run",
        data: { scheduledAt: "2026-01-05T09:00:00.000Z" },
      });
      expect(ran).toMatchObject([
        {
          taskId: id,
          type: "schedule_run",
          message: "scheduled run",
          data: { scheduledAt: "2026-01-05T09:00:00.000Z" },
        },
      ]);
      expect((await store.getTask(id))!.schedule).toMatchObject({
        runCount: 1,
        lastRunAt: at("2026-01-05T09:00:02Z"),
        nextRunAt: at("2026-01-05T10:00:00Z"),
      });
      expect((await store.listEvents(id, 0, 100)).at(-1)).toMatchObject({ type: "schedule_run" });

      // The schedule moved on meanwhile (set again, enabled...): its own next time stays.
      await store.recordSchedule(id, {
        type: "schedule_skipped",
        at: at("2026-01-05T10:00:01Z"),
        expectedNextRunAt: at("2026-01-05T09:00:00Z"),
        nextRunAt: at("2026-01-05T11:00:00Z"),
        message: "skipped",
        data: {},
      });
      expect((await store.getTask(id))!.schedule).toMatchObject({
        runCount: 1,
        lastRunAt: at("2026-01-05T09:00:02Z"),
        nextRunAt: at("2026-01-05T10:00:00Z"),
      });
      await store.recordSchedule(id, {
        type: "schedule_missed",
        at: at("2026-01-05T13:00:00Z"),
        expectedNextRunAt: at("2026-01-05T10:00:00Z"),
        nextRunAt: null,
        message: "missed",
        data: { missed: 3 },
      });
      expect((await store.getTask(id))!.schedule).toMatchObject({ runCount: 1, nextRunAt: null });
      expect(
        await store.recordSchedule("gone", {
          type: "schedule_run",
          at: systemClock.now(),
          expectedNextRunAt: null,
          nextRunAt: null,
          message: "",
          data: {},
        }),
      ).toEqual([]);
    });

    it("refuses an idle-only re-run (CONFLICT, nothing changed) while the tree waits to run", async () => {
      const id = await tree("root");
      await tasks.execute(id, { rerunAll: true, idleOnly: true });
      const queued = await store.getTask(id);
      expect(queued).toMatchObject({ status: "pending", queued: true });
      const before = (await store.listEvents(id, 0, 100)).length;
      await expect(tasks.execute(id, { rerunAll: true, idleOnly: true })).rejects.toMatchObject({
        code: ErrorCode.CONFLICT,
      });
      expect(await store.listEvents(id, 0, 100)).toHaveLength(before);
    });
  });
}
