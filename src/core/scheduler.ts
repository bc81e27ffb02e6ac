/**
 * The scheduler: on the cluster's leader (or the single embedded node), `tick` runs
 * the schedules that fell due. Pure (ports only), so tests drive it with a FakeClock.
 *
 * - No drift: the next due time follows from the time the run was due, never from
 *   when it started or finished.
 * - No overlap: a schedule due while its tree's previous run is still going is
 *   skipped, recorded as `schedule_skipped`; the check is made under the tree's lock
 *   (RequeueOptions.idleOnly), so no run resets another.
 * - Missed runs (no node was up when they fell due): with `run_once`, the run made
 *   now is the one catch-up and the schedule resumes at its first time after now;
 *   with `skip`, a due time older than one tick interval plus MISSED_GRACE_MS does
 *   not run at all and is recorded as `schedule_missed` with how many were missed.
 * - Finished (maxRuns reached, endAt passed, a `once` that ran): nextRunAt becomes
 *   null and the schedule stays visible.
 */
import { ErrorCode, isApflowError } from "./errors.js";
import type { Logger } from "./executor.js";
import type { Clock, EventBus, LeaderFence, ScheduleRecord, TaskStore } from "./ports.js";
import { nextRun } from "./schedule/index.js";
import type { TaskService } from "./task-service.js";
import type { MissedRunPolicy, Task, TaskSchedule } from "./types.js";

export interface SchedulerOptions {
  store: TaskStore;
  tasks: TaskService;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  /** How often `tick` is called (APFLOW_SCHEDULER_INTERVAL). */
  intervalMs: number;
  /** The node's missed-run policy (APFLOW_SCHEDULE_MISSED_RUNS), for schedules without their own. */
  missedRuns: MissedRunPolicy;
}

/** A tick late by this much beyond its interval (a busy event loop, a slow database) is lateness, not downtime. */
export const MISSED_GRACE_MS = 5_000;
/** Due schedules claimed per statement. */
const BATCH_SIZE = 100;
/** Missed occurrences are counted one by one up to this many; past it the count is a lower bound. */
const MAX_COUNTED = 10_000;

export class Scheduler {
  private readonly logger: Logger;

  constructor(private readonly options: SchedulerOptions) {
    this.logger = options.logger.child({ component: "scheduler" });
  }

  /** Runs (or skips, or records as missed) every schedule due now. With a fence, only while that lease holds. */
  async tick(fence?: LeaderFence): Promise<void> {
    const now = this.options.clock.now();
    const seen = new Set<string>();
    for (;;) {
      const due = await this.options.store.claimDueSchedules(now, BATCH_SIZE, fence);
      // A schedule whose handling failed stays due; it is retried next tick, not in a loop now.
      const fresh = due.filter((task) => !seen.has(task.id));
      for (const task of fresh) {
        seen.add(task.id);
        try {
          await this.settle(task, task.schedule!, now, fence);
        } catch (error) {
          this.logger.error("running a due schedule failed", { task: task.id, error });
        }
      }
      if (due.length < BATCH_SIZE || fresh.length === 0) return;
    }
  }

  private async settle(task: Task, schedule: TaskSchedule, now: Date, fence?: LeaderFence): Promise<void> {
    const due = schedule.nextRunAt!;
    const policy = schedule.missedRuns ?? this.options.missedRuns;
    if (policy === "skip" && now.getTime() - due.getTime() > this.options.intervalMs + MISSED_GRACE_MS) {
      const after = following(schedule, due, now, schedule.runCount);
      const missed = after.missed + 1;
      await this.record(task, fence, {
        type: "schedule_missed",
        at: now,
        expectedNextRunAt: due,
        nextRunAt: after.next,
        message: `missed ${after.capped ? "more than " : ""}${missed} run${missed === 1 ? "" : "s"} due from ${due.toISOString()} while no node was up (missed-run policy: skip)`,
        data: { scheduledAt: due.toISOString(), missed, nextRunAt: iso(after.next) },
      });
      return;
    }
    try {
      await this.options.tasks.execute(task.id, { rerunAll: true, idleOnly: true });
    } catch (error) {
      if (!isApflowError(error, ErrorCode.CONFLICT)) throw error;
      const after = following(schedule, due, now, schedule.runCount);
      await this.record(task, fence, {
        type: "schedule_skipped",
        at: now,
        expectedNextRunAt: due,
        nextRunAt: after.next,
        message: `skipped the run due ${due.toISOString()}: the tree's previous run is still going`,
        data: { scheduledAt: due.toISOString(), nextRunAt: iso(after.next) },
      });
      return;
    }
    const runCount = schedule.runCount + 1;
    const after = following(schedule, due, now, runCount);
    await this.record(task, fence, {
      type: "schedule_run",
      at: now,
      expectedNextRunAt: due,
      nextRunAt: after.next,
      message:
        after.missed > 0
          ? `scheduled run due ${due.toISOString()}, catching up ${after.missed} more missed while no node was up`
          : `scheduled run due ${due.toISOString()}`,
      data: {
        source: "schedule",
        scheduledAt: due.toISOString(),
        runCount,
        nextRunAt: iso(after.next),
        ...(after.missed > 0 ? { missed: after.missed } : {}),
      },
    });
  }

  private async record(task: Task, fence: LeaderFence | undefined, record: ScheduleRecord): Promise<void> {
    const events = await this.options.store.recordSchedule(task.id, record, fence);
    if (events.length === 0) {
      this.logger.warn("a schedule's outcome was not recorded: this node is no longer the leader", {
        task: task.id,
        type: record.type,
      });
      return;
    }
    this.options.bus.publish(events);
    this.logger.info(record.message, { task: task.id, type: record.type });
  }
}

/**
 * The schedule's next due time after `due`, counting the occurrences that also fell
 * due by `now` (missed: they are not run, and resume at the first time after now).
 */
function following(
  schedule: TaskSchedule,
  due: Date,
  now: Date,
  runCount: number,
): { next: Date | null; missed: number; capped: boolean } {
  let next = nextRun(schedule, due, runCount);
  let missed = 0;
  while (next !== null && next <= now) {
    if (missed === MAX_COUNTED) return { next: nextRun(schedule, now, runCount), missed, capped: true };
    missed++;
    next = nextRun(schedule, next, runCount);
  }
  return { next, missed, capped: false };
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}
