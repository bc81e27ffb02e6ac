/**
 * The schedule storage contract on memory, PGlite and PostgreSQL, and what only the
 * SQL stores do: the leader fence on claims and records, and the webhook replay table.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import { TaskService } from "../../src/core/task-service.js";
import type { TaskSchedule } from "../../src/core/types.js";
import type { Database } from "../../src/storage/database.js";
import { MemoryTaskStore } from "../../src/storage/memory-store.js";
import { acquireLeadership } from "../../src/storage/sql/cluster.js";
import { takeWebhookRate } from "../../src/storage/sql/webhook-rates.js";
import { rememberSignature } from "../../src/storage/sql/webhook-replays.js";
import { SqlTaskStore } from "../../src/storage/sql-task-store.js";
import { openTestDatabase } from "../support/databases.js";
import { defineScheduleContract } from "../support/schedule-contract.js";
import { newProbe, testExecutors } from "../support/test-executors.js";

defineScheduleContract("the memory store", () => ({ open: async () => new MemoryTaskStore(systemClock) }));

for (const kind of ["pglite", "postgres"] as const) {
  defineScheduleContract(kind === "pglite" ? "PGlite" : "PostgreSQL", () => {
    let cleanup: (() => Promise<void>) | undefined;
    return {
      async open() {
        const opened = await openTestDatabase(kind);
        cleanup = opened.cleanup;
        return new SqlTaskStore(opened.db.sql);
      },
      cleanup: async () => cleanup?.(),
    };
  });

  describe(`schedules on ${kind}: leader fence and webhook replays`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    let store: SqlTaskStore;
    let tasks: TaskService;
    beforeEach(async () => {
      ({ db, cleanup } = await openTestDatabase(kind));
      store = new SqlTaskStore(db.sql);
      tasks = new TaskService(store, new ExecutorRegistry(testExecutors(newProbe())), new LocalEventBus(), null);
    });
    afterEach(async () => cleanup());

    const due: TaskSchedule = {
      type: "interval",
      expression: "1m",
      timezone: "UTC",
      enabled: true,
      startAt: new Date("2026-01-05T08:00:00Z"),
      endAt: null,
      maxRuns: null,
      nextRunAt: new Date("2026-01-05T08:01:00Z"),
      lastRunAt: null,
      runCount: 0,
      missedRuns: null,
    };

    it("claims and records only for the node holding the leader lease in that term", async () => {
      const lease = (await acquireLeadership(db.sql, "leader", 30_000))!;
      const fence = { nodeId: "leader", term: lease.term };
      await tasks.createTree([{ id: "job", name: "job", executor: "noop" }]);
      await store.setSchedule("job", due);
      const now = new Date("2026-01-05T08:05:00Z");
      expect(await store.claimDueSchedules(now, 10, { nodeId: "other", term: lease.term })).toEqual([]);
      expect(await store.claimDueSchedules(now, 10, { ...fence, term: lease.term + 1 })).toEqual([]);
      expect((await store.claimDueSchedules(now, 10, fence)).map((t) => t.id)).toEqual(["job"]);
      const record = {
        type: "schedule_run" as const,
        at: now,
        expectedNextRunAt: due.nextRunAt,
        nextRunAt: new Date("2026-01-05T08:06:00Z"),
        message: "run",
        data: {},
      };
      expect(await store.recordSchedule("job", record, { nodeId: "other", term: lease.term })).toEqual([]);
      expect((await store.getTask("job"))!.schedule).toMatchObject({ runCount: 0, nextRunAt: due.nextRunAt });
      expect(await store.recordSchedule("job", record, fence)).toHaveLength(1);
      expect((await store.getTask("job"))!.schedule).toMatchObject({ runCount: 1, nextRunAt: record.nextRunAt });
    });

    it("refuses a schedule on a child task in the database itself", async () => {
      await tasks.createTree([
        { id: "root", name: "root", executor: "noop" },
        { id: "kid", name: "kid", executor: "noop", parentId: "root" },
      ]);
      await expect(
        db.sql.query("UPDATE tasks SET schedule_type = 'interval', schedule_expr = '1m' WHERE id = 'kid'"),
      ).rejects.toThrow(/tasks_schedule_root_check/);
    });

    it("remembers a webhook signature once, whichever connection asks, and forgets it after keepMs", async () => {
      const remember = (hash: string, keepMs = 60_000) =>
        db.sql.transaction((tx) => rememberSignature(tx, hash, keepMs));
      expect(await remember("a")).toBe(true);
      expect(await remember("a")).toBe(false);
      expect(await Promise.all([remember("b"), remember("b"), remember("b")])).toEqual(
        expect.arrayContaining([true, false, false]),
      );
      await db.sql.query(
        "UPDATE webhook_replays SET seen_at = now() - interval '2 minutes' WHERE signature_hash = 'a'",
      );
      expect(await remember("a")).toBe(true);
    });

    it("shares a schedule's webhook allowance between connections, and forgets spent ones", async () => {
      const take = (key: string) => db.sql.transaction((tx) => takeWebhookRate(tx, key, 3));
      const waits = await Promise.all([take("s1"), take("s1"), take("s1"), take("s1"), take("s1")]);
      expect(waits.filter((w) => w === 0)).toHaveLength(3);
      // The two refused wait for the next of 3 a minute: about 20 s.
      for (const wait of waits.filter((w) => w > 0)) expect(wait).toBeGreaterThan(19_000);
      expect(await take("s2")).toBe(0);
      // A minute later (moved by hand) the allowance is whole again, and a row whose
      // time has passed is deleted by the next request.
      await db.sql.query("UPDATE webhook_rates SET tat_ms = tat_ms - 120000");
      expect(await take("s1")).toBe(0);
      expect(await db.sql.query("SELECT key FROM webhook_rates ORDER BY key")).toEqual([{ key: "s1" }]);
    });
  });
}
