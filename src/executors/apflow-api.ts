/**
 * `apflow_api_executor`: runs a task tree on another apflow node, as one task here. It
 * creates the tree through the node's GraphQL API, follows it over a graphql-ws
 * subscription (resuming after the last event it saw when the socket drops; polling when
 * no socket can be opened), mirrors the remote roll-up as progress, and cancels the remote
 * tree when this task is cancelled or times out, so no remote work is left behind.
 * The node's URL comes from the task, so it is guarded like rest_executor's.
 */
import { randomUUID } from "node:crypto";
import type { LookupAddress } from "node:dns";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket, { type ClientOptions } from "ws";
import type { RemoteTreeTasksQuery } from "../client/gql/graphql.js";
import { graphql } from "../client/gql/index.js";
import { normalizeTaskSpecs } from "../core/apflow-format.js";
import { ApflowError, ErrorCode, errorMessage, type Problem } from "../core/errors.js";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import { redactSecrets } from "../core/redact.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { checkUrlAs, guardOptions } from "./address-guard.js";
import { runDeadline, sleep } from "./deadline.js";
import { InputReader, isJsonObject, MAX_TIMER_MS } from "./inputs.js";
import { requestPinned } from "./pinned-request.js";
import { readText } from "./response-text.js";
import { scrubbedError } from "./secret-scrub.js";
import { shownUrl } from "./shown-url.js";
import { pinnedLookup, type ResolveHost } from "./url-guard.js";

export interface ApflowApiExecutorOptions {
  /** Let tasks reach nodes on loopback, private and link-local addresses (APFLOW_REST_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Host names or IP literals exempt from the private-address guard, e.g. the cluster's nodes. */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guard (custom resolvers, tests). @defaultValue dns.lookup */
  resolve?: ResolveHost;
  /** How often the remote tree is polled when no WebSocket can be opened. @defaultValue 1000 */
  pollIntervalMs?: number;
  /** Reconnects tried after an established WebSocket drops, before falling back to polling. @defaultValue 5 */
  maxReconnects?: number;
}

export interface RemoteTask extends JsonObject {
  id: string;
  name: string;
  status: string;
  result: JsonValue;
  error: string | null;
  errorCode: string | null;
}

export interface ApflowApiResult extends JsonObject {
  rootId: string;
  /** The remote root's status, lower-case as in apflow ("completed"). */
  status: string;
  /** The remote root's result. */
  result: JsonValue;
  tasks: RemoteTask[];
}

interface ApiInputs {
  url: URL;
  token: string | undefined;
  tasks: JsonObject[];
  timeoutMs: number | undefined;
}

interface Rollup {
  total: number;
  pending: number;
  inProgress: number;
  progress: number;
}

const ID = "apflow_api_executor";
const DEFAULT_POLL_INTERVAL_MS = 1000;
const DEFAULT_MAX_RECONNECTS = 5;
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const ERROR_BODY_CHARS = 1000;
/** Time allowed for cancelling the remote tree after a cancel or timeout here. */
const CANCEL_MS = 10_000;
const TASKS_PAGE = 500;
const ACK_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MS = 15_000;
const PONG_TIMEOUT_MS = 10_000;
const TIMED_OUT = Symbol("apflow_api_executor timeout");

const CreateTree = graphql(`
  mutation RemoteCreateTree($input: CreateTaskTreeInput!) {
    createTaskTree(input: $input) {
      id
      treeId
    }
  }
`);

const CancelTree = graphql(`
  mutation RemoteCancelTree($id: ID!, $reason: String) {
    cancelTask(id: $id, reason: $reason) {
      id
      status
    }
  }
`);

const TreeState = graphql(`
  query RemoteTreeState($id: ID!) {
    task(id: $id) {
      id
      rollup {
        total
        pending
        inProgress
        progress
      }
    }
  }
`);

const TreeTasks = graphql(`
  query RemoteTreeTasks($treeId: ID!, $after: String) {
    tasks(filter: { treeId: $treeId }, first: 500, after: $after, orderBy: { field: CREATED_AT, direction: ASC }) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          status
          result
          error
          errorCode
        }
      }
    }
  }
`);

const TreeEvents = graphql(`
  subscription RemoteTreeEvents($rootId: ID!, $after: ID) {
    taskTreeEvents(rootId: $rootId, after: $after) {
      id
      status
      progress
      task {
        id
      }
    }
  }
`);

const inputSchema = {
  type: "object",
  properties: {
    url: {
      type: "string",
      format: "uri",
      description: "The other node's GraphQL endpoint, e.g. https://node-2.internal:4000/graphql.",
    },
    token: {
      type: "string",
      description: "Sent as `Authorization: Bearer <token>` (never logged or shown in errors).",
    },
    tasks: {
      type: "array",
      minItems: 1,
      items: { type: "object" },
      description:
        "The tree to run there, as a flat task array (apflow's format, as createTaskTree takes it: name, executor " +
        "or schemas.method, inputs, parentId, dependencies, ...).",
    },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      description: "Cancel the remote tree and fail with TIMEOUT after this many milliseconds.",
    },
  },
  required: ["url", "tasks"],
  additionalProperties: false,
};

/** Builds `apflow_api_executor`; unless `allowPrivateUrls`, only nodes on public addresses are reachable. */
export function createApflowApiExecutor(options: ApflowApiExecutorOptions = {}): Executor {
  return defineExecutor({
    id: ID,
    description:
      "Creates and runs a task tree on another apflow node through its GraphQL API, follows it live, and returns " +
      "{ rootId, status, result, tasks: [{ id, name, status, result, error, errorCode }] }. A remote failure fails " +
      "this task (the remote error code is in the details); cancelling this task cancels the remote tree. Nodes on " +
      "private addresses are refused unless this node allows them (APFLOW_REST_ALLOW_PRIVATE_URLS=1).",
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      ctx.signal.throwIfAborted();
      try {
        return await runRemote(input, options, ctx);
      } catch (error) {
        throw scrubbedError(error, input.token !== undefined && input.token.length >= 3 ? [input.token] : []);
      }
    },
  });
}

function readInputs(raw: JsonObject): ApiInputs {
  const reader = new InputReader(ID, raw);
  const url = reader.httpUrl("url");
  const tasks = reader.raw("tasks");
  if (tasks === undefined) reader.problem("tasks", "is required");
  else if (!Array.isArray(tasks) || tasks.length === 0 || !tasks.every(isJsonObject)) {
    reader.problem("tasks", "must be a non-empty array of task objects");
  }
  const input: ApiInputs = {
    url: url!, // set: a missing or invalid url is a problem, and finish() throws
    token: reader.string("token", { nonEmpty: true }),
    tasks: Array.isArray(tasks) ? taskInputs(tasks as JsonObject[]) : [],
    timeoutMs: reader.integer("timeoutMs", 1, MAX_TIMER_MS),
  };
  reader.finish();
  return input;
}

/**
 * The tasks as the remote createTaskTree takes them: apflow's snake_case format accepted,
 * dependencies given as bare ids turned into { id }, and the root given an id of our own
 * so it can be cancelled even when the answer to the create call is lost.
 */
function taskInputs(tasks: JsonObject[]): JsonObject[] {
  const specs = (normalizeTaskSpecs(tasks) as JsonObject[]).map((spec) => {
    const dependencies = spec.dependencies;
    if (!Array.isArray(dependencies)) return spec;
    return { ...spec, dependencies: dependencies.map((d) => (typeof d === "string" ? { id: d } : d)) };
  });
  const roots = specs.filter((spec) => spec.parentId === undefined || spec.parentId === null);
  if (roots.length === 1 && (roots[0]!.id === undefined || roots[0]!.id === null)) roots[0]!.id = randomUUID();
  return specs;
}

async function runRemote(input: ApiInputs, options: ApflowApiExecutorOptions, ctx: ExecutorContext) {
  // DNS lookups cannot be aborted: racing `aborted` makes cancelling and timing out prompt anyway.
  const deadline = runDeadline(ctx.signal, input.timeoutMs, () => TIMED_OUT);
  const { signal, aborted } = deadline;
  const rootId = input.tasks.find((t) => t.parentId === undefined || t.parentId === null)?.id;
  let node: RemoteNode | undefined;
  let createSent = false;
  let finished = false;

  const run = async (): Promise<ApflowApiResult> => {
    node = await RemoteNode.connect(input, options);
    signal.throwIfAborted();
    createSent = true;
    const created = (await node.createTree(input.tasks, signal)).createTaskTree;
    ctx.logger.info("remote tree created", { rootId: created.id, node: node.shown });
    await follow(node, created.id, input.tasks.length, options, signal, ctx);
    finished = true;
    return outcome(node, created, await node.treeTasks(created.treeId, signal));
  };

  try {
    return await Promise.race([run(), aborted]);
  } catch (error) {
    if (!signal.aborted) throw error;
    throw abortReason(signal, input);
  } finally {
    deadline.dispose();
    // The root's id is known before the create call returns (taskInputs gives it one), so a
    // tree whose creation was interrupted is cancelled too.
    if (signal.aborted && !finished && createSent && node && typeof rootId === "string") {
      const why = signal.reason === TIMED_OUT ? `timed out after ${input.timeoutMs} ms` : "cancelled";
      const remote = node;
      await remote.cancel(rootId, `${ID}: ${why}`).then(
        () => ctx.logger.info("remote tree cancelled", { rootId, node: remote.shown }),
        (error) => ctx.logger.warn("could not cancel the remote tree", { rootId, error: errorMessage(error) }),
      );
    }
  }
}

function abortReason(signal: AbortSignal, input: ApiInputs): unknown {
  if (signal.reason !== TIMED_OUT) return signal.reason;
  return new ApflowError(
    ErrorCode.TIMEOUT,
    `remote tree on ${shownUrl(input.url)} timed out after ${input.timeoutMs} ms and was cancelled`,
    { timeoutMs: input.timeoutMs },
  );
}

/** Waits until every task of the remote tree is terminal: events when possible, else polling. */
async function follow(
  node: RemoteNode,
  rootId: string,
  expectedTasks: number,
  options: ApflowApiExecutorOptions,
  signal: AbortSignal,
  ctx: ExecutorContext,
): Promise<void> {
  const report = (rollup: Rollup) => {
    const done = rollup.total - rollup.pending - rollup.inProgress;
    ctx.reportProgress(rollup.progress, `${done}/${rollup.total} remote tasks finished`);
  };
  // The roll-up is summed here from the events (as the remote sums it: a terminal task counts
  // 1, another its own progress), not read from each event's root: see TreeRollup.
  const rollup = new TreeRollup(expectedTasks);
  const maxReconnects = options.maxReconnects ?? DEFAULT_MAX_RECONNECTS;
  let after: string | null = null;
  let reconnects = 0;
  for (;;) {
    const outcome = await node.followEvents(rootId, after, signal, (event) => {
      after = event.id;
      report(rollup.update(event.task.id, event.status, event.progress));
    });
    if (outcome.kind === "complete") return;
    signal.throwIfAborted();
    if (outcome.kind === "dropped" && reconnects < maxReconnects) {
      reconnects++;
      ctx.logger.info("remote event stream dropped; resuming", { rootId, after, attempt: reconnects });
      await sleep(Math.min(250 * 2 ** (reconnects - 1), 5000), signal);
      continue;
    }
    ctx.logger.warn("remote events unavailable; polling the remote tree instead", {
      rootId,
      node: node.shown,
      reason: outcome.reason,
    });
    break;
  }
  for (;;) {
    const task = (await node.treeState(rootId, signal)).task;
    if (!task) {
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `remote task ${rootId} on ${node.shown} disappeared`, {
        remoteRootId: rootId,
      });
    }
    report(task.rollup);
    if (task.rollup.pending + task.rollup.inProgress === 0) return;
    await sleep(options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, signal);
  }
}

/** The result, or the remote failure with the code of the task where it started. */
function outcome(node: RemoteNode, created: { id: string }, tasks: RemoteTask[]): ApflowApiResult {
  const root = tasks.find((t) => t.id === created.id);
  if (!root) {
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `remote task ${created.id} on ${node.shown} disappeared`, {
      remoteRootId: created.id,
    });
  }
  if (root.status === "completed") return { rootId: root.id, status: root.status, result: root.result, tasks };
  const failed = tasks.filter((t) => t.status === "failed" || t.status === "cancelled");
  // DEPENDENCY_FAILED only passes a failure on: the task that failed first says why.
  const cause =
    failed.find((t) => t.errorCode !== null && t.errorCode !== ErrorCode.DEPENDENCY_FAILED) ?? failed[0] ?? root;
  const where = cause.id === root.id ? "" : ` (task "${cause.name}")`;
  throw new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `remote tree ${root.id} on ${node.shown} ${root.status}${where}: ${cause.error ?? cause.errorCode ?? "no error"}`,
    {
      remoteRootId: root.id,
      remoteStatus: root.status,
      remoteCode: cause.errorCode ?? (root.status === "cancelled" ? ErrorCode.CANCELLED : null),
      remoteUrl: node.shown,
      failedTasks: failed.slice(0, 20).map((t) => ({ id: t.id, name: t.name, errorCode: t.errorCode, error: t.error })),
    },
  );
}

type FollowOutcome =
  | { kind: "complete" }
  /** The socket was open, then closed: worth resuming. */
  | { kind: "dropped"; reason: string }
  /** No socket could be opened, or the node refused the subscription. */
  | { kind: "unavailable"; reason: string };

type TreeEvent = { id: string; status: string; progress: number; task: { id: string } };

const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/**
 * The remote tree's roll-up, kept from its events. Asking the node for the root's rollup
 * inside the subscription does not work: the node builds one GraphQL context (and its
 * DataLoader cache) per subscription, so every event would carry the first event's figures.
 */
class TreeRollup {
  private readonly tasks = new Map<string, { status: string; share: number }>();
  private readonly counts = new Map<string, number>();
  private sum = 0;

  constructor(private readonly expected: number) {}

  update(taskId: string, status: string, progress: number): Rollup {
    const before = this.tasks.get(taskId);
    const share = TERMINAL.has(status) ? 1 : Math.min(Math.max(progress, 0), 1);
    this.sum += share - (before?.share ?? 0);
    if (before) this.counts.set(before.status, (this.counts.get(before.status) ?? 1) - 1);
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
    this.tasks.set(taskId, { status, share });
    // Tasks not heard of yet are pending: the tree was created with `expected` tasks.
    const total = Math.max(this.expected, this.tasks.size);
    return {
      total,
      pending: (this.counts.get("PENDING") ?? 0) + total - this.tasks.size,
      inProgress: this.counts.get("IN_PROGRESS") ?? 0,
      progress: total === 0 ? 0 : this.sum / total,
    };
  }
}

/** A remote GraphQL error, with its `extensions.code` and validation problems. */
class RemoteError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    readonly problems: Problem[],
  ) {
    super(message);
  }
}

/** One remote node: GraphQL over HTTP and WebSocket, every connection pinned to the checked addresses. */
class RemoteNode {
  private readonly documents = new Map<unknown, string>();

  private constructor(
    readonly url: URL,
    private readonly token: string | undefined,
    private readonly addresses: LookupAddress[] | null,
  ) {}

  static async connect(input: ApiInputs, options: ApflowApiExecutorOptions): Promise<RemoteNode> {
    const checked = await checkUrlAs(input.url, guardOptions(options.allowPrivateUrls, options), ID);
    return new RemoteNode(input.url, input.token, checked.addresses);
  }

  get shown(): string {
    return shownUrl(this.url);
  }

  async createTree(tasks: JsonObject[], signal: AbortSignal) {
    try {
      return await this.request(CreateTree, { input: { tasks: tasks as never, execute: true } }, signal);
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      const problems = error.problems.map((p) => ({ ...p, path: `inputs.${p.path}` }));
      throw new ApflowError(
        problems.length > 0 ? ErrorCode.VALIDATION_ERROR : ErrorCode.EXECUTOR_FAILED,
        `remote apflow ${this.shown} refused the tree: ${error.message}`,
        { remoteCode: error.code, remoteUrl: this.shown, ...(problems.length > 0 ? { problems } : {}) },
      );
    }
  }

  async cancel(rootId: string, reason: string): Promise<void> {
    await this.request(CancelTree, { id: rootId, reason }, AbortSignal.timeout(CANCEL_MS));
  }

  treeState(rootId: string, signal: AbortSignal) {
    return this.request(TreeState, { id: rootId }, signal);
  }

  /** Every task of the tree, page by page, statuses lower-cased. */
  async treeTasks(treeId: string, signal: AbortSignal): Promise<RemoteTask[]> {
    const tasks: RemoteTask[] = [];
    let after: string | null = null;
    for (;;) {
      const { tasks: page }: RemoteTreeTasksQuery = await this.request(TreeTasks, { treeId, after }, signal);
      for (const { node } of page.edges) {
        tasks.push({
          id: node.id,
          name: node.name,
          status: node.status.toLowerCase(),
          result: (node.result ?? null) as JsonValue,
          error: node.error ?? null,
          errorCode: node.errorCode ?? null,
        });
      }
      if (!page.pageInfo.hasNextPage || page.edges.length < TASKS_PAGE) return tasks;
      after = page.pageInfo.endCursor ?? null;
    }
  }

  /** Follows the tree's events (after `after`) until the tree is finished or the socket fails. */
  followEvents(
    rootId: string,
    after: string | null,
    signal: AbortSignal,
    onEvent: (event: TreeEvent) => void,
  ): Promise<FollowOutcome> {
    return new Promise((resolve) => {
      let connected = false;
      let socket: { close(code: number, reason: string): void } | undefined;
      let pongTimer: NodeJS.Timeout | undefined;
      const client = createClient({
        url: this.url.href.replace(/^http/, "ws"),
        webSocketImpl: this.webSocketClass(),
        connectionParams: this.token ? { authorization: `Bearer ${this.token}` } : undefined,
        lazy: true,
        retryAttempts: 0,
        connectionAckWaitTimeout: ACK_TIMEOUT_MS,
        // A node that vanished without closing the socket would otherwise leave us waiting
        // forever: no pong in time closes the socket, and the stream is resumed.
        keepAlive: KEEP_ALIVE_MS,
        on: {
          connected: (opened) => {
            connected = true;
            socket = opened as typeof socket;
          },
          ping: (received) => {
            if (!received) pongTimer = setTimeout(() => socket?.close(4408, "no pong"), PONG_TIMEOUT_MS);
          },
          pong: (received) => {
            if (received) clearTimeout(pongTimer);
          },
          closed: () => clearTimeout(pongTimer),
        },
      });
      let settled = false;
      const finish = (result: FollowOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(pongTimer);
        signal.removeEventListener("abort", onAbort);
        unsubscribe();
        void client.dispose();
        resolve(result);
      };
      const onAbort = () => finish({ kind: "unavailable", reason: "aborted" });
      signal.addEventListener("abort", onAbort, { once: true });
      const unsubscribe = client.subscribe<{ taskTreeEvents: TreeEvent }>(
        { query: this.printed(TreeEvents), variables: { rootId, after } },
        {
          next: (value) => {
            if (value.errors?.length) finish({ kind: "unavailable", reason: value.errors[0]!.message });
            else if (value.data) onEvent(value.data.taskTreeEvents);
          },
          error: (error) => {
            const reason = Array.isArray(error)
              ? String((error[0] as { message?: string } | undefined)?.message)
              : error instanceof Error
                ? error.message
                : `socket closed (${(error as { code?: number }).code ?? "?"})`;
            // A GraphQL error (the node does not know the subscription) is not cured by reconnecting.
            finish({ kind: connected && !Array.isArray(error) ? "dropped" : "unavailable", reason });
          },
          complete: () => finish({ kind: "complete" }),
        },
      );
    });
  }

  /** ws with our headers and the socket pinned to the checked addresses (ws hands `lookup` to net.connect). */
  private webSocketClass() {
    const headers: Record<string, string> = { "user-agent": "apflow" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const extra = { headers, maxPayload: MAX_RESPONSE_BYTES, handshakeTimeout: 10_000 } as ClientOptions;
    if (this.addresses) Object.assign(extra, { lookup: pinnedLookup(this.addresses) });
    return class PinnedWebSocket extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, extra);
      }
    };
  }

  private printed(document: unknown): string {
    let text = this.documents.get(document);
    if (text === undefined) {
      text = print(document as Parameters<typeof print>[0]);
      this.documents.set(document, text);
    }
    return text;
  }

  /** One GraphQL operation over HTTP; GraphQL errors become RemoteError, HTTP failures ApflowError. */
  private async request<R, V>(document: TypedDocumentNode<R, V>, variables: V, signal: AbortSignal): Promise<R> {
    const body = Buffer.from(JSON.stringify({ query: this.printed(document), variables }));
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      "user-agent": "apflow",
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await requestPinned(
      { url: this.url, addresses: this.addresses },
      { method: "POST", headers, body },
      signal,
      (error) =>
        new ApflowError(
          ErrorCode.EXECUTOR_FAILED,
          `remote apflow ${this.shown} not reachable: ${error.message}`,
          { code: error.code ?? null },
          { cause: error },
        ),
    );
    const status = response.statusCode ?? 0;
    const text = await readText(
      response,
      MAX_RESPONSE_BYTES,
      () => new ApflowError(ErrorCode.EXECUTOR_FAILED, `remote apflow answer larger than ${MAX_RESPONSE_BYTES} bytes`),
    );
    let payload: { data?: R | null; errors?: { message?: string; extensions?: JsonObject }[] } | undefined;
    try {
      payload = JSON.parse(text);
    } catch {
      // Not GraphQL: reported with the status below.
    }
    const first = payload?.errors?.[0];
    if (first) {
      const problems = Array.isArray(first.extensions?.problems)
        ? (first.extensions.problems as unknown as Problem[])
        : [];
      const code = typeof first.extensions?.code === "string" ? first.extensions.code : null;
      throw new RemoteError(first.message ?? "unknown error", code, problems);
    }
    if (status < 200 || status >= 300 || !payload?.data) {
      const hint = status === 401 || status === 403 ? " (check the token)" : "";
      const excerpt = JSON.stringify(redactSecrets(text));
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `remote apflow ${this.shown} answered HTTP ${status}${hint}`, {
        status,
        remoteUrl: this.shown,
        body: excerpt.length > ERROR_BODY_CHARS ? `${excerpt.slice(0, ERROR_BODY_CHARS)}...` : excerpt,
      });
    }
    return payload.data;
  }
}
