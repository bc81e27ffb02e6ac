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
import { TreeEventStream } from "../../core/tree-event-stream.js";
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

export class LocalGateway implements Gateway {
  /** With `onlyCreatedTrees`, the trees this process created: the only ones its engine runs. */
  private readonly created: string[] | null;

  private constructor(
    private readonly apflow: Apflow,
    readonly where: string,
    readonly kind: "embedded" | "postgres",
    onlyCreatedTrees: boolean,
  ) {
    this.created = onlyCreatedTrees ? [] : null;
  }

  /**
   * Opens the configured storage; `runTasks` starts an engine that runs queued tasks
   * here, with `onlyCreatedTrees` only those of the trees this gateway creates.
   */
  static async open(
    config: ApflowConfig,
    options: { runTasks: boolean; onlyCreatedTrees?: boolean },
  ): Promise<LocalGateway> {
    const only = options.runTasks && options.onlyCreatedTrees === true;
    // A short-lived CLI process never leads: due schedules and lease housekeeping stay with
    // the servers (or the next server to open the embedded database).
    const apflow = await createApflow({
      config,
      runTasks: options.runTasks,
      ...(options.runTasks ? { nodeRole: "worker" as const } : {}),
      ...(only ? { onlyTrees: [] } : {}),
    });
    return apflow.database.dialect === "pglite"
      ? new LocalGateway(apflow, `the embedded database in ${apflow.database.dataDir}`, "embedded", only)
      : new LocalGateway(apflow, `PostgreSQL at ${redactUrl(config.databaseUrl ?? "")}`, "postgres", only);
  }

  async createTree(tasks: Record<string, unknown>[], options: { execute: boolean }): Promise<TaskView> {
    const root = await this.apflow.createTree(tasks, { execute: options.execute });
    if (this.created) {
      this.created.push(root.treeId);
      this.apflow.engine?.limitToTrees([...this.created]);
    }
    return taskView(root);
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

  /** The tree's stored events, then its live ones, as the taskTreeEvents subscription streams them. */
  async followTree(id: string, onEvent: (event: TreeEvent) => void, signal: AbortSignal): Promise<void> {
    const { treeId } = await this.apflow.tasks.requireTask(id);
    if (signal.aborted) return;
    const stream = new TreeEventStream(this.apflow.tasks, this.apflow.bus, treeId, 0);
    const stop = () => void stream.return();
    signal.addEventListener("abort", stop);
    try {
      for await (const event of stream) onEvent(eventView(event));
    } finally {
      signal.removeEventListener("abort", stop);
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
