/**
 * The schedule operations every interface shares (library API as
 * `apflow.schedules`, GraphQL, CLI, webhook): set, enable, disable, clear and
 * trigger a root task's schedule, list scheduled tasks, export them as iCalendar.
 * The timing rules of due runs are the Scheduler's (scheduler.ts).
 */
import { ApflowError, ErrorCode, isApflowError, type Problem, validationError } from "./errors.js";
import type { Clock, EventBus, ScheduleCursor, TaskStore } from "./ports.js";
import { nextRun, parseSchedule, type Schedule, type ScheduleInput, toICalendar } from "./schedule/index.js";
import type { TaskService } from "./task-service.js";
import { MISSED_RUN_POLICIES, type MissedRunPolicy, type Task, type TaskSchedule } from "./types.js";

export interface ScheduleSettingInput extends ScheduleInput {
  /** Runs missed while no node was up: run_once or skip; null or absent follows the node's setting. */
  missedRuns?: string | null;
}

/** Who asked for a run outside the schedule. */
export type TriggerSource = "manual" | "webhook";

export interface ScheduleListOptions {
  enabled?: boolean;
  /** Page size. @defaultValue 50 */
  first?: number;
  /** `scheduleCursor` of the last task of the previous page. */
  after?: string;
}

const DEFAULT_PAGE_SIZE = 50;
/** Page size used to read every schedule for the iCalendar export. */
const EXPORT_PAGE_SIZE = 500;

export class ScheduleService {
  constructor(
    private readonly store: TaskStore,
    private readonly tasks: TaskService,
    private readonly bus: EventBus,
    private readonly clock: Clock,
  ) {}

  /**
   * Sets (replaces) the schedule of a root task; its run count starts from 0. An
   * interval without startAt counts from now. Every problem is reported at once.
   */
  async set(taskId: string, input: ScheduleSettingInput): Promise<Task> {
    const task = await this.tasks.requireTask(taskId);
    const problems: Problem[] = [];
    let schedule: Schedule | null = null;
    try {
      schedule = parseSchedule(input);
    } catch (error) {
      if (!isApflowError(error, ErrorCode.VALIDATION_ERROR)) throw error;
      problems.push(...error.problems);
    }
    const missedRuns = input.missedRuns ?? null;
    if (missedRuns !== null && !isMissedRunPolicy(missedRuns)) {
      problems.push({
        path: "missedRuns",
        code: ErrorCode.VALIDATION_ERROR,
        message: `missed-run policy "${missedRuns}" is unknown; use run_once or skip (or leave it unset for the node's APFLOW_SCHEDULE_MISSED_RUNS)`,
      });
    }
    if (task.parentId !== null) {
      problems.push({
        path: "id",
        code: ErrorCode.VALIDATION_ERROR,
        message: `task "${task.name}" is not a root; a schedule runs a whole tree, so set it on the root "${task.treeId}"`,
      });
    }
    const now = this.clock.now();
    let nextRunAt: Date | null = null;
    if (schedule) {
      // Interval runs are counted from startAt: without one, from now.
      if (schedule.type === "interval" && schedule.startAt === null) schedule = { ...schedule, startAt: now };
      nextRunAt = schedule.enabled ? nextRun(schedule, now, 0) : null;
      if (schedule.enabled && nextRunAt === null) {
        problems.push({
          path: "expression",
          code: ErrorCode.VALIDATION_ERROR,
          message: `the schedule has no run after now (${now.toISOString()}): its time has passed or endAt leaves none; change it, or set it disabled`,
        });
      }
    }
    if (problems.length > 0) throw validationError(problems, "schedule", "nothing was written");
    return this.write(taskId, {
      ...schedule!,
      nextRunAt,
      lastRunAt: task.schedule?.lastRunAt ?? null,
      runCount: 0,
      missedRuns: missedRuns as MissedRunPolicy | null,
    });
  }

  /** Enables a schedule; its next run is the first time after now. Enabling an enabled one changes nothing. */
  async enable(taskId: string): Promise<Task> {
    const task = await this.tasks.requireTask(taskId);
    const schedule = requireSchedule(task);
    if (schedule.enabled) return task;
    const nextRunAt = nextRun(schedule, this.clock.now(), schedule.runCount);
    this.bus.publish(await this.store.setScheduleEnabled(taskId, true, nextRunAt));
    return this.tasks.requireTask(taskId);
  }

  /** Disables a schedule: it never runs until enabled again. */
  async disable(taskId: string): Promise<Task> {
    const task = await this.tasks.requireTask(taskId);
    const schedule = requireSchedule(task);
    if (!schedule.enabled) return task;
    this.bus.publish(await this.store.setScheduleEnabled(taskId, false, null));
    return this.tasks.requireTask(taskId);
  }

  /** Removes a task's schedule (nothing to do when it has none). */
  async clear(taskId: string): Promise<Task> {
    const task = await this.tasks.requireTask(taskId);
    if (task.schedule === null) return task;
    return this.write(taskId, null);
  }

  /**
   * Runs the tree now, outside its schedule: it counts as a run but leaves the next
   * due time alone (unless that run was the last one maxRuns allows). CONFLICT while
   * the tree still runs, or when the schedule is disabled or finished.
   */
  async trigger(taskId: string, options: { source: TriggerSource }): Promise<Task> {
    const task = await this.tasks.requireTask(taskId);
    const schedule = requireSchedule(task);
    if (!schedule.enabled) {
      throw new ApflowError(
        ErrorCode.CONFLICT,
        `the schedule of "${task.name}" is disabled; enable it before triggering it`,
      );
    }
    if (schedule.nextRunAt === null) {
      throw new ApflowError(
        ErrorCode.CONFLICT,
        `the schedule of "${task.name}" is finished (${schedule.runCount} run${schedule.runCount === 1 ? "" : "s"} made, maxRuns or endAt reached); set it again to run more`,
      );
    }
    const now = this.clock.now();
    await this.tasks.execute(taskId, { rerunAll: true, idleOnly: true });
    const runCount = schedule.runCount + 1;
    // The same due time, unless this run used up maxRuns (or was a once schedule's run).
    const nextRunAt = nextRun(schedule, new Date(schedule.nextRunAt.getTime() - 1), runCount);
    this.bus.publish(
      await this.store.recordSchedule(taskId, {
        type: "schedule_run",
        at: now,
        expectedNextRunAt: schedule.nextRunAt,
        nextRunAt,
        message: `run by a ${options.source} trigger`,
        data: { source: options.source, runCount, nextRunAt: nextRunAt?.toISOString() ?? null },
      }),
    );
    return this.tasks.requireTask(taskId);
  }

  /** Scheduled tasks, soonest next run first; disabled and finished ones last. */
  async list(options: ScheduleListOptions = {}): Promise<Task[]> {
    const first = options.first ?? DEFAULT_PAGE_SIZE;
    if (!Number.isSafeInteger(first) || first < 0) {
      throw new ApflowError(ErrorCode.VALIDATION_ERROR, `first: ${first} is not a page size; give a whole number >= 0`);
    }
    return this.store.listScheduled({
      ...(options.enabled === undefined ? {} : { enabled: options.enabled }),
      ...(options.after === undefined ? {} : { after: parseScheduleCursor(options.after) }),
      limit: first,
    });
  }

  /** Every enabled schedule (with `includeDisabled`, every one) as an iCalendar (RFC 5545) document. */
  async exportICal(options: { includeDisabled?: boolean } = {}): Promise<string> {
    const scheduled: Task[] = [];
    for (;;) {
      const page = await this.list({
        ...(options.includeDisabled ? {} : { enabled: true }),
        first: EXPORT_PAGE_SIZE,
        ...(scheduled.length > 0 ? { after: scheduleCursor(scheduled.at(-1)!) } : {}),
      });
      scheduled.push(...page);
      if (page.length < EXPORT_PAGE_SIZE) break;
    }
    const entries = scheduled.map((task) => {
      const schedule = task.schedule!;
      return { id: task.id, name: task.name, schedule, nextRunAt: schedule.nextRunAt, runCount: schedule.runCount };
    });
    return toICalendar(entries, { now: this.clock.now(), calendarName: "apflow schedules" });
  }

  private async write(taskId: string, schedule: TaskSchedule | null): Promise<Task> {
    this.bus.publish(await this.store.setSchedule(taskId, schedule));
    return this.tasks.requireTask(taskId);
  }
}

/** The paging cursor of a scheduled task: pass it as `after` to list the tasks that follow it. */
export function scheduleCursor(task: Task): string {
  return `${task.schedule?.nextRunAt?.getTime() ?? ""}:${task.id}`;
}

function parseScheduleCursor(cursor: string): ScheduleCursor {
  const match = /^(\d*):(.+)$/s.exec(cursor);
  if (!match) {
    throw new ApflowError(
      ErrorCode.VALIDATION_ERROR,
      `after: "${cursor}" is not a cursor of a scheduled-task listing; pass the cursor of the last task of the previous page`,
    );
  }
  return { nextRunAt: match[1] === "" ? null : new Date(Number(match[1])), id: match[2]! };
}

function requireSchedule(task: Task): TaskSchedule {
  if (task.schedule === null) {
    throw new ApflowError(
      ErrorCode.NOT_FOUND,
      `task "${task.name}" has no schedule; set one first (setTaskSchedule, or apflow.schedules.set)`,
    );
  }
  return task.schedule;
}

function isMissedRunPolicy(value: string): value is MissedRunPolicy {
  return (MISSED_RUN_POLICIES as readonly string[]).includes(value);
}
