/**
 * The gateway to a running apflow server: GraphQL over HTTP for requests and over
 * WebSocket (graphql-ws `taskTreeEvents`) for live trees, with the typed documents
 * of ./operations.ts. The bearer token (api_token / APFLOW_API_TOKEN) goes in the
 * `Authorization` header and in the WebSocket's connection parameters.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import type {
  MissedRunPolicy as ApiMissedRunPolicy,
  ScheduleType as ApiScheduleType,
  TaskStatus as ApiStatus,
  CliTaskFieldsFragment,
  CliTasksQuery,
  CliTreeEventsSubscription,
} from "../../client/gql/graphql.js";
import { ApflowError, ErrorCode, errorMessage, type Problem, validationError } from "../../core/errors.js";
import type { ScheduleType } from "../../core/schedule/index.js";
import type { MissedRunPolicy, TaskEventType, TaskStatus } from "../../core/types.js";
import type {
  ExecutorView,
  Gateway,
  SchedulePage,
  ScheduleSpec,
  TaskListQuery,
  TaskPage,
  TaskView,
  TreeEvent,
} from "./gateway.js";
import {
  CliCancelTask,
  CliClearSchedule,
  CliCopyTask,
  CliCreateTree,
  CliDeleteTask,
  CliDisableSchedule,
  CliEnableSchedule,
  CliExecutors,
  CliScheduledTasks,
  CliSchedulesICal,
  CliSetSchedule,
  CliTask,
  CliTasks,
  CliTreeEvents,
  CliTriggerSchedule,
} from "./operations.js";

/** A request the server has not answered in this long is reported as UNAVAILABLE. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Reconnections tried after an open event stream drops, resuming after the last event. */
const MAX_RECONNECTS = 5;
/** Tasks per page when reading a whole tree (the API's page-size limit). */
const TREE_PAGE = 500;
const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

interface GraphqlError {
  message: string;
  extensions?: { code?: unknown; problems?: unknown };
}

export class ApiGateway implements Gateway {
  readonly where: string;
  readonly kind = "api";
  private readonly printed = new Map<unknown, string>();

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
  ) {
    this.where = `the API at ${url}`;
  }

  async createTree(tasks: Record<string, unknown>[], options: { execute: boolean }): Promise<TaskView> {
    const { createTaskTree } = await this.request(CliCreateTree, {
      input: { tasks: tasks as never, execute: options.execute },
    });
    return taskView(createTaskTree);
  }

  async getTask(id: string): Promise<TaskView> {
    const { task } = await this.request(CliTask, { id });
    if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    return taskView(task);
  }

  async getSubtree(id: string): Promise<TaskView[]> {
    const root = await this.getTask(id);
    const all: TaskView[] = [];
    let after: string | null = null;
    for (;;) {
      const page: CliTasksQuery = await this.request(CliTasks, {
        filter: { treeId: root.treeId },
        first: TREE_PAGE,
        after,
        orderBy: { field: "CREATED_AT", direction: "ASC" },
      });
      all.push(...page.tasks.edges.map((edge) => taskView(edge.node)));
      if (!page.tasks.pageInfo.hasNextPage) break;
      after = page.tasks.pageInfo.endCursor;
    }
    return descendants(all, id);
  }

  async listTasks(query: TaskListQuery): Promise<TaskPage> {
    const { tasks } = await this.request(CliTasks, {
      filter: {
        ...(query.status ? { status: query.status.map((s) => s.toUpperCase() as ApiStatus) } : {}),
        ...(query.executor ? { executor: query.executor } : {}),
        ...(query.rootOnly ? { rootOnly: true } : {}),
        ...(query.treeId ? { treeId: query.treeId } : {}),
      },
      first: query.limit,
      after: query.after ?? null,
    });
    return {
      tasks: tasks.edges.map((edge) => taskView(edge.node)),
      total: tasks.totalCount,
      next: tasks.pageInfo.hasNextPage ? tasks.pageInfo.endCursor : null,
    };
  }

  async cancelTask(id: string, reason: string): Promise<TaskView> {
    return taskView((await this.request(CliCancelTask, { id, reason })).cancelTask);
  }

  async copyTask(id: string, options: { execute: boolean }): Promise<TaskView> {
    return taskView((await this.request(CliCopyTask, { id, execute: options.execute })).copyTask);
  }

  async deleteTask(id: string): Promise<void> {
    await this.request(CliDeleteTask, { id });
  }

  async listExecutors(): Promise<ExecutorView[]> {
    return (await this.request(CliExecutors, {})).executors;
  }

  async setSchedule(id: string, schedule: ScheduleSpec): Promise<TaskView> {
    const { type, missedRuns, ...rest } = schedule;
    const input = {
      ...rest,
      type: type.toUpperCase() as ApiScheduleType,
      ...(missedRuns ? { missedRuns: missedRuns.toUpperCase() as ApiMissedRunPolicy } : {}),
    };
    return taskView((await this.request(CliSetSchedule, { id, input })).setTaskSchedule);
  }

  async enableSchedule(id: string): Promise<TaskView> {
    return taskView((await this.request(CliEnableSchedule, { id })).enableTaskSchedule);
  }

  async disableSchedule(id: string): Promise<TaskView> {
    return taskView((await this.request(CliDisableSchedule, { id })).disableTaskSchedule);
  }

  async clearSchedule(id: string): Promise<TaskView> {
    return taskView((await this.request(CliClearSchedule, { id })).clearTaskSchedule);
  }

  async triggerSchedule(id: string): Promise<TaskView> {
    return taskView((await this.request(CliTriggerSchedule, { id })).triggerTaskSchedule);
  }

  async listSchedules(query: { enabled?: boolean; limit: number; after?: string }): Promise<SchedulePage> {
    const { scheduledTasks } = await this.request(CliScheduledTasks, {
      enabled: query.enabled ?? null,
      first: query.limit,
      after: query.after ?? null,
    });
    return {
      tasks: scheduledTasks.edges.map((edge) => taskView(edge.node)),
      next: scheduledTasks.pageInfo.hasNextPage ? scheduledTasks.pageInfo.endCursor : null,
    };
  }

  async exportICal(options: { includeDisabled: boolean }): Promise<string> {
    return (await this.request(CliSchedulesICal, { includeDisabled: options.includeDisabled })).schedulesICal;
  }

  async followTree(id: string, onEvent: (event: TreeEvent) => void, signal: AbortSignal): Promise<void> {
    let after: string | null = null;
    for (let reconnects = 0; ; reconnects++) {
      const outcome = await this.subscribeOnce(id, after, signal, (event) => {
        after = event.id;
        onEvent(event);
      });
      if (outcome === "complete" || signal.aborted) return;
      if (reconnects >= MAX_RECONNECTS) {
        throw new ApflowError(
          ErrorCode.UNAVAILABLE,
          `The event stream from ${this.url} dropped ${MAX_RECONNECTS + 1} times; ` +
            `check the server, then follow the tree again with \`apflow tasks watch ${id}\`.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** reconnects));
    }
  }

  async close(): Promise<void> {}

  /**
   * One subscription until it completes ("complete") or its open socket drops
   * ("dropped", worth resuming). Anything else (no connection, a refused token, a
   * GraphQL error) is thrown.
   */
  private subscribeOnce(
    rootId: string,
    after: string | null,
    signal: AbortSignal,
    onEvent: (event: TreeEvent) => void,
  ): Promise<"complete" | "dropped"> {
    return new Promise((resolve, reject) => {
      let connected = false;
      const client: Client = createClient({
        url: this.url.replace(/^http/, "ws"),
        webSocketImpl: WebSocket,
        connectionParams: this.token ? { authorization: `Bearer ${this.token}` } : {},
        lazy: true,
        retryAttempts: 0,
        on: { connected: () => (connected = true) },
      });
      let settled = false;
      const finish = (outcome: "complete" | "dropped" | Error) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        unsubscribe();
        void client.dispose();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const onAbort = () => finish("complete");
      signal.addEventListener("abort", onAbort, { once: true });
      const unsubscribe = client.subscribe<CliTreeEventsSubscription>(
        { query: this.text(CliTreeEvents), variables: { rootId, after } },
        {
          next: (value) => {
            if (value.errors?.length) finish(this.graphqlError(value.errors as GraphqlError[]));
            else if (value.data) onEvent(eventView(value.data.taskTreeEvents));
          },
          error: (error) => {
            if (Array.isArray(error)) finish(this.graphqlError(error as GraphqlError[]));
            else if (connected && isClose(error) && error.code !== 4401 && error.code !== 4403) finish("dropped");
            else finish(this.socketError(error));
          },
          complete: () => finish("complete"),
        },
      );
    });
  }

  private socketError(error: unknown): ApflowError {
    if (isClose(error) && (error.code === 4401 || error.code === 4403)) {
      return unauthenticated(this.url, error.reason);
    }
    const why = isClose(error)
      ? `socket closed (${error.code}${error.reason ? ` ${error.reason}` : ""})`
      : errorMessage(error);
    return unavailable(this.url, why);
  }

  private text(document: unknown): string {
    let text = this.printed.get(document);
    if (text === undefined) {
      text = print(document as Parameters<typeof print>[0]);
      this.printed.set(document, text);
    }
    return text;
  }

  /** One operation over HTTP; GraphQL errors become ApflowErrors with the server's code. */
  private async request<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ query: this.text(document), variables }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (error as Error).name === "TimeoutError"
          ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
          : (cause?.code ?? cause?.message ?? errorMessage(error));
      throw unavailable(this.url, why);
    }
    const text = await response.text();
    let body: { data?: R | null; errors?: GraphqlError[] } | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // Not GraphQL: reported below with the status.
    }
    if (body?.errors?.length) throw this.graphqlError(body.errors);
    if (response.status === 401 || response.status === 403) throw unauthenticated(this.url, `HTTP ${response.status}`);
    if (!response.ok || !body?.data) {
      throw unavailable(this.url, `HTTP ${response.status} without a GraphQL answer; is it an apflow API?`);
    }
    return body.data;
  }

  /** The server's errors as one error: its code, and every problem (validation). */
  private graphqlError(errors: GraphqlError[]): Error {
    const first = errors[0]!;
    const code = typeof first.extensions?.code === "string" ? first.extensions.code : "";
    if (code === ErrorCode.UNAUTHENTICATED) return unauthenticated(this.url, first.message);
    if (KNOWN_CODES.has(code)) {
      const problems = Array.isArray(first.extensions?.problems) ? (first.extensions.problems as Problem[]) : [];
      return new ApflowError(code as ErrorCode, first.message, problems.length > 0 ? { problems } : undefined);
    }
    if (code === "INTERNAL_SERVER_ERROR") {
      return new Error(`The API at ${this.url} failed with an unexpected error; the server's log has the details.`);
    }
    // Raised by GraphQL itself. A variable of the wrong shape is the user's value (e.g. a
    // task file's "priority": "high"); anything else means the server does not know an
    // operation of this CLI.
    const values = errors.map((error) =>
      /^Variable "\$\w+" got invalid value .*? at "\w+\.([^"]+)"; (.*)$/s.exec(error.message),
    );
    if (values.every((match) => match !== null)) {
      const problems = values.map((match) => ({
        path: match![1]!,
        code: ErrorCode.VALIDATION_ERROR,
        message: match![2]!,
      }));
      return validationError(problems, "request", "nothing was written");
    }
    return new Error(
      `The API at ${this.url} does not accept this CLI's request (is it another version of apflow?): ` +
        errors.map((error) => error.message).join("; "),
    );
  }
}

function isClose(error: unknown): error is { code: number; reason: string } {
  return typeof (error as { code?: unknown } | null)?.code === "number";
}

function unavailable(url: string, why: string): ApflowError {
  return new ApflowError(
    ErrorCode.UNAVAILABLE,
    `Cannot reach the apflow API at ${url} (${why}). Check that the server is running (\`apflow serve\`) and ` +
      "that the URL is right (--api-url, APFLOW_API_URL, or api_url in the configuration file).",
    { url },
  );
}

function unauthenticated(url: string, why: string): ApflowError {
  return new ApflowError(
    ErrorCode.UNAUTHENTICATED,
    `The apflow API at ${url} refused the request (${why}). Set the server's token as APFLOW_API_TOKEN, ` +
      "or with `apflow config set api_token -` (reads it from stdin).",
    { url },
  );
}

/** `tasks` restricted to `rootId` and its descendants, parents before children. */
function descendants(tasks: TaskView[], rootId: string): TaskView[] {
  const children = new Map<string, TaskView[]>();
  for (const task of tasks) {
    if (task.parentId) children.set(task.parentId, [...(children.get(task.parentId) ?? []), task]);
  }
  const out: TaskView[] = [];
  const visit = (task: TaskView) => {
    out.push(task);
    for (const child of children.get(task.id) ?? []) visit(child);
  };
  const root = tasks.find((task) => task.id === rootId);
  if (root) visit(root);
  return out;
}

function taskView(task: CliTaskFieldsFragment): TaskView {
  return {
    id: task.id,
    treeId: task.treeId,
    parentId: task.parent?.id ?? null,
    name: task.name,
    executor: task.executor,
    status: task.status.toLowerCase() as TaskStatus,
    progress: task.progress,
    priority: task.priority,
    inputs: task.inputs,
    params: task.params,
    result: task.result ?? null,
    error: task.error,
    errorCode: task.errorCode,
    attempt: task.attempt,
    maxAttempts: task.maxAttempts,
    timeoutMs: task.timeoutMs,
    idempotencyKey: task.idempotencyKey,
    dependencies: task.dependencies.map((d) => ({ id: d.task.id, required: d.required })),
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    completedAt: task.completedAt,
    updatedAt: task.updatedAt,
    schedule: task.schedule
      ? {
          ...task.schedule,
          type: task.schedule.type.toLowerCase() as ScheduleType,
          missedRuns: (task.schedule.missedRuns?.toLowerCase() ?? null) as MissedRunPolicy | null,
        }
      : null,
  };
}

function eventView(event: CliTreeEventsSubscription["taskTreeEvents"]): TreeEvent {
  return {
    id: event.id,
    seq: event.seq,
    taskId: event.task.id,
    type: event.type.toLowerCase() as TaskEventType,
    status: event.status.toLowerCase() as TaskStatus,
    progress: event.progress,
    attempt: event.attempt,
    message: event.message,
    at: event.at,
  };
}
