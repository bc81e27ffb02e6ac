/**
 * The gateway that opens the database in this process (no server involved): the
 * embedded database when nothing else holds it, or PostgreSQL, where any number of
 * processes may work side by side. Commands that wait for a tree (`run`, and `tasks
 * watch` on the embedded database, which no other process can be running) start an
 * engine here; the others only read and write.
 */
import { type Apflow, createApflow } from "../../apflow.js";
import type { ApflowConfig } from "../../config/index.js";
import { ApflowError, ErrorCode } from "../../core/errors.js";
import { redactSecrets, redactUrl } from "../../core/redact.js";
import { describeSchedule } from "../../core/schedule/index.js";
import { scheduleCursor } from "../../core/schedule-service.js";
import type { JsonValue, Task, TaskEvent, TaskSchedule } from "../../core/types.js";
import type {
  ExecutorView,
  Gateway,
  SchedulePage,
  ScheduleSpec,
  ScheduleView,
  TaskListQuery,
  TaskPage,
  TaskView,
  TreeEvent,
} from "./gateway.js";

/** Events read from storage per query while catching up. */
const EVENT_PAGE = 500;

export class LocalGateway implements Gateway {
  private constructor(
    private readonly apflow: Apflow,
    readonly where: string,
    readonly kind: "embedded" | "postgres",
  ) {}

  /** Opens the configured storage; `runTasks` starts an engine that runs queued tasks here. */
  static async open(config: ApflowConfig, options: { runTasks: boolean }): Promise<LocalGateway> {
    // A short-lived CLI process never leads: due schedules and lease housekeeping stay with
    // the servers (or the next server to open the embedded database).
    const apflow = await createApflow({
      config,
      runTasks: options.runTasks,
      ...(options.runTasks ? { nodeRole: "worker" as const } : {}),
    });
    return apflow.database.dialect === "pglite"
      ? new LocalGateway(apflow, `the embedded database in ${apflow.database.dataDir}`, "embedded")
      : new LocalGateway(apflow, `PostgreSQL at ${redactUrl(config.databaseUrl ?? "")}`, "postgres");
  }

  async createTree(tasks: Record<string, unknown>[], options: { execute: boolean }): Promise<TaskView> {
    return taskView(await this.apflow.createTree(tasks, { execute: options.execute }));
  }

  async getTask(id: string): Promise<TaskView> {
    return taskView(await this.apflow.tasks.requireTask(id));
  }

  async getSubtree(id: string): Promise<TaskView[]> {
    const tasks: TaskView[] = [];
    const visit = (node: Awaited<ReturnType<Apflow["getTaskTree"]>>) => {
      tasks.push(taskView(node));
      node.children.forEach(visit);
    };
    visit(await this.apflow.getTaskTree(id));
    return tasks;
  }

  async listTasks(query: TaskListQuery): Promise<TaskPage> {
    const offset = query.after === undefined ? 0 : Number(query.after);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new ApflowError(
        ErrorCode.VALIDATION_ERROR,
        `--after "${query.after}" is not a cursor of this storage; use the one the previous page printed`,
      );
    }
    const filter = {
      ...(query.status ? { status: query.status } : {}),
      ...(query.executor ? { executor: query.executor } : {}),
      ...(query.rootOnly ? { rootOnly: true } : {}),
      ...(query.treeId ? { treeId: query.treeId } : {}),
    };
    const [tasks, total] = await Promise.all([
      this.apflow.listTasks({ ...filter, limit: query.limit, offset }),
      this.apflow.tasks.countTasks(filter),
    ]);
    const end = offset + tasks.length;
    return { tasks: tasks.map(taskView), total, next: end < total ? String(end) : null };
  }

  async cancelTask(id: string, reason: string): Promise<TaskView> {
    return taskView(await this.apflow.cancelTask(id, reason));
  }

  async copyTask(id: string, options: { execute: boolean }): Promise<TaskView> {
    return taskView(await this.apflow.copyTask(id, options));
  }

  async deleteTask(id: string): Promise<void> {
    await this.apflow.deleteTask(id);
  }

  async listExecutors(): Promise<ExecutorView[]> {
    return this.apflow.executors
      .list()
      .map(({ id, description, available, unavailableReason }) => ({ id, description, available, unavailableReason }));
  }

  async setSchedule(id: string, schedule: ScheduleSpec): Promise<TaskView> {
    return taskView(await this.apflow.schedules.set(id, schedule));
  }

  async enableSchedule(id: string): Promise<TaskView> {
    return taskView(await this.apflow.schedules.enable(id));
  }

  async disableSchedule(id: string): Promise<TaskView> {
    return taskView(await this.apflow.schedules.disable(id));
  }

  async clearSchedule(id: string): Promise<TaskView> {
    return taskView(await this.apflow.schedules.clear(id));
  }

  async triggerSchedule(id: string): Promise<TaskView> {
    return taskView(await this.apflow.schedules.trigger(id, { source: "manual" }));
  }

  async listSchedules(query: { enabled?: boolean; limit: number; after?: string }): Promise<SchedulePage> {
    // One more than the page tells whether another page follows.
    const page = await this.apflow.schedules.list({
      first: query.limit + 1,
      ...(query.enabled === undefined ? {} : { enabled: query.enabled }),
      ...(query.after === undefined ? {} : { after: query.after }),
    });
    const tasks = page.slice(0, query.limit);
    return { tasks: tasks.map(taskView), next: page.length > query.limit ? scheduleCursor(tasks.at(-1)!) : null };
  }

  exportICal(options: { includeDisabled: boolean }): Promise<string> {
    return this.apflow.schedules.exportICal(options);
  }

  /**
   * Stored events, then live ones from the bus, without gaps or repeats: the bus is
   * subscribed before storage is read, and a live event that jumps ahead (events of
   * another node, or of concurrent commits) has the gap read from storage first.
   */
  async followTree(id: string, onEvent: (event: TreeEvent) => void, signal: AbortSignal): Promise<void> {
    const { treeId } = await this.apflow.tasks.requireTask(id);
    const live: TaskEvent[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = this.apflow.subscribe(treeId, (event) => {
      live.push(event);
      wake?.();
    });
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    let last = 0;
    const emit = (event: TaskEvent) => {
      onEvent(eventView(event));
      last = event.seq;
    };
    /** Stored events after `last`, up to `until` (inclusive) or the end. */
    const catchUp = async (until = Number.POSITIVE_INFINITY) => {
      for (;;) {
        const page = await this.apflow.events(treeId, last, Math.min(EVENT_PAGE, until - last));
        for (const event of page) emit(event);
        if (page.length < EVENT_PAGE || last >= until) return;
      }
    };
    try {
      await catchUp();
      if ((await this.apflow.tasks.openTaskCount(treeId)) === 0) {
        await catchUp(); // finished while we read: the stored events are all there is
        return;
      }
      while (!signal.aborted) {
        const event = live.shift();
        if (!event) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
          continue;
        }
        if (event.seq <= last) continue;
        if (event.seq > last + 1) await catchUp(event.seq - 1);
        emit(event);
        if (event.treeFinished) return;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      unsubscribe();
    }
  }

  close(): Promise<void> {
    return this.apflow.close();
  }
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/** The view of a task; inputs and params are redacted as the API redacts them. */
export function taskView(task: Task): TaskView {
  return {
    id: task.id,
    treeId: task.treeId,
    parentId: task.parentId,
    name: task.name,
    executor: task.executor,
    status: task.status,
    progress: task.progress,
    priority: task.priority,
    inputs: redactSecrets(task.inputs as JsonValue),
    params: redactSecrets(task.params as JsonValue),
    result: task.result,
    error: task.error,
    errorCode: task.errorCode,
    attempt: task.attempt,
    maxAttempts: task.maxAttempts,
    timeoutMs: task.timeoutMs,
    idempotencyKey: task.idempotencyKey,
    dependencies: task.dependencies.map(({ id, required }) => ({ id, required })),
    createdAt: task.createdAt.toISOString(),
    startedAt: iso(task.startedAt),
    completedAt: iso(task.completedAt),
    updatedAt: task.updatedAt.toISOString(),
    schedule: task.schedule ? scheduleView(task.schedule) : null,
  };
}

function scheduleView(schedule: TaskSchedule): ScheduleView {
  return {
    type: schedule.type,
    expression: schedule.expression,
    timezone: schedule.timezone,
    enabled: schedule.enabled,
    startAt: iso(schedule.startAt),
    endAt: iso(schedule.endAt),
    nextRunAt: iso(schedule.nextRunAt),
    lastRunAt: iso(schedule.lastRunAt),
    maxRuns: schedule.maxRuns,
    runCount: schedule.runCount,
    missedRuns: schedule.missedRuns,
    description: describeSchedule(schedule),
  };
}

function eventView(event: TaskEvent): TreeEvent {
  return {
    id: `${event.treeId}:${event.seq}`,
    seq: event.seq,
    taskId: event.taskId,
    type: event.type,
    status: event.status,
    progress: event.progress,
    attempt: event.attempt,
    message: event.message,
    at: event.at.toISOString(),
  };
}
