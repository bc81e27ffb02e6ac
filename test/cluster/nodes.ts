/**
 * Helpers of the multi-process cluster tests: start node processes
 * (./node-process.ts), talk to their GraphQL APIs over HTTP and graphql-ws, read
 * the shared work log, and read the database's committed state directly.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { captureOutput, childEnv, type Exit, exitOf, spawnTsx } from "../support/processes.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeScript = path.join(here, "node-process.ts");
const packageRoot = path.resolve(here, "..", "..");

/** Short cluster timings (seconds in the APFLOW_* variables). */
export const TIMINGS = {
  leaseMs: 3_000,
  leaderLeaseMs: 3_000,
  heartbeatMs: 500,
  pollIntervalMs: 500,
  staleMs: 2_000,
  deadMs: 5_000,
};

export interface NodeOptions {
  databaseUrl: string;
  nodeId: string;
  /** The shared work log the `work` executor appends to. */
  log: string;
  role?: "auto" | "leader" | "worker" | "observer";
  tags?: string[];
  maxParallel?: number;
  /** `work`'s sleep when a task gives no `inputs.ms`: "min-max" in ms. */
  workMs?: string;
  /** Extra environment (APFLOW_* overrides). */
  env?: Record<string, string>;
}

export interface NodeProcess {
  nodeId: string;
  pid: number;
  child: ChildProcess;
  /** The node's GraphQL endpoint (HTTP) and the same for graphql-ws. */
  url: string;
  wsUrl: string;
  /** From spawn to ready, ms. */
  startupMs: number;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  exited: Promise<Exit>;
  alive(): boolean;
  /** SIGKILL; resolves with Date.now() right after the signal was sent, once the process is gone. */
  kill(): Promise<number>;
  /** SIGTERM and wait for a clean exit. */
  stop(ms?: number): Promise<void>;
}

const running = new Set<NodeProcess>();

/** The database URL with an application_name, so a node's sessions can be told apart. */
export function urlForNode(databaseUrl: string, nodeId: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set("application_name", `apflow-${nodeId}`);
  return url.toString();
}

const seconds = (ms: number) => String(ms / 1000);

/** Starts a node process and resolves once it reports ready (its API listens). */
export async function startNode(options: NodeOptions, readyMs = 60_000): Promise<NodeProcess> {
  const env = childEnv({
    DATABASE_URL: urlForNode(options.databaseUrl, options.nodeId),
    APFLOW_NODE_ID: options.nodeId,
    APFLOW_NODE_ROLE: options.role ?? "auto",
    APFLOW_NODE_TAGS: (options.tags ?? []).join(","),
    APFLOW_MAX_PARALLEL_TASKS: String(options.maxParallel ?? 8),
    APFLOW_LEASE_DURATION: seconds(TIMINGS.leaseMs),
    APFLOW_LEADER_LEASE: seconds(TIMINGS.leaderLeaseMs),
    APFLOW_HEARTBEAT_INTERVAL: seconds(TIMINGS.heartbeatMs),
    APFLOW_POLL_INTERVAL: seconds(TIMINGS.pollIntervalMs),
    APFLOW_NODE_STALE_THRESHOLD: seconds(TIMINGS.staleMs),
    APFLOW_NODE_DEAD_THRESHOLD: seconds(TIMINGS.deadMs),
    APFLOW_SHUTDOWN_GRACE: "0",
    APFLOW_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    PORT: "0",
    HOST: "127.0.0.1",
    TEST_WORK_LOG: options.log,
    TEST_WORK_MS: options.workMs ?? "20-50",
    ...options.env,
  });
  const spawnedAt = Date.now();
  const child = spawnTsx(nodeScript, [], { cwd: packageRoot, env });
  type Ready = { url: string; wsUrl: string; nodeId: string };
  let ready: Ready | null = null;
  let onReady: (ready: Ready) => void = () => {};
  const output = captureOutput(child, (line) => {
    const message = line as { ready?: boolean; url?: string; wsUrl?: string; nodeId?: string };
    if (message.ready && !ready) {
      ready = { url: message.url!, wsUrl: message.wsUrl!, nodeId: message.nodeId! };
      onReady(ready);
    }
  });
  const exited = exitOf(child);
  const readyPromise = new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node ${options.nodeId} not ready within ${readyMs} ms. Output:\n${output().slice(-4000)}`));
    }, readyMs);
    onReady = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    void exited.then((exit) => {
      clearTimeout(timer);
      if (!ready) {
        reject(
          new Error(
            `node ${options.nodeId} exited (${exit.code ?? exit.signal}) before it was ready. Output:\n${output().slice(-4000)}`,
          ),
        );
      }
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const node: NodeProcess = {
    nodeId: options.nodeId,
    pid: child.pid,
    child,
    url: "",
    wsUrl: "",
    startupMs: 0,
    output,
    exited,
    alive,
    async kill() {
      child.kill("SIGKILL");
      const at = Date.now();
      await exited;
      return at;
    },
    async stop(ms = 30_000) {
      if (!alive()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      const exit = await exited;
      clearTimeout(timer);
      if (exit.code !== 0) throw new Error(`node ${options.nodeId} did not exit cleanly: ${exit.code ?? exit.signal}`);
    },
  };
  running.add(node);
  void exited.then(() => running.delete(node));
  const { url, wsUrl } = await readyPromise;
  node.url = url;
  node.wsUrl = wsUrl;
  node.startupMs = Date.now() - spawnedAt;
  return node;
}

/** Starts several nodes at once. */
export function startNodes(list: NodeOptions[]): Promise<NodeProcess[]> {
  return Promise.all(list.map((options) => startNode(options)));
}

/** SIGKILLs every node process still running (afterEach / afterAll). */
export async function killNodes(): Promise<void> {
  const left = [...running];
  for (const node of left) {
    if (node.alive()) node.child.kill("SIGKILL");
  }
  await Promise.all(left.map((n) => n.exited));
}

// ---------------------------------------------------------------------------
// GraphQL

export interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs a GraphQL operation to a node; throws on transport or GraphQL errors. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  if (body.errors?.length || !body.data) {
    throw new Error(`GraphQL error from ${url}: ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

export const CREATE_TREE = /* GraphQL */ `
  mutation Create($input: CreateTaskTreeInput!) {
    createTaskTree(input: $input) { id treeId status }
  }
`;

export interface TaskInput {
  id?: string;
  name: string;
  executor: string;
  parentId?: string;
  dependencies?: { id: string; required?: boolean }[];
  inputs?: Record<string, unknown>;
  idempotencyKey?: string;
  placement?: { executors?: string[]; tags?: string[]; allowNodes?: string[]; forbidNodes?: string[] };
  priority?: number;
  maxAttempts?: number;
}

/** Creates a tree through a node's GraphQL API; returns the root's id. */
export async function createTree(url: string, tasks: TaskInput[], execute = true): Promise<string> {
  const data = await gql<{ createTaskTree: { id: string } }>(url, CREATE_TREE, { input: { tasks, execute } });
  return data.createTaskTree.id;
}

export interface ClusterView {
  leaderId: string | null;
  leaderTerm: number | null;
  healthyNodes: number;
  staleNodes: number;
  deadNodes: number;
  queue: { pending: number; ready: number; inProgress: number; completed: number; failed: number; cancelled: number };
}

export async function clusterView(url: string): Promise<ClusterView> {
  const data = await gql<{ cluster: ClusterView }>(
    url,
    `{ cluster { leaderId leaderTerm healthyNodes staleNodes deadNodes
                 queue { pending ready inProgress completed failed cancelled } } }`,
  );
  return data.cluster;
}

/** A graphql-ws client on a node (no retries: a dropped connection is an error the test sees). */
export function wsClient(wsUrl: string): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
}

// ---------------------------------------------------------------------------
// The work log

export interface LogLine {
  taskId: string;
  kind: "start" | "end" | "abort" | "fail";
  nodeId: string;
  at: number;
  attempt: number;
}

export function readWorkLog(file: string): LogLine[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const lines: LogLine[] = [];
  for (const raw of text.split("\n")) {
    const [taskId, kind, nodeId, at, attempt] = raw.split(" ");
    // A line cut short by a kill is ignored (one appendFileSync of a short line is one write).
    if (!taskId || !nodeId || attempt === undefined) continue;
    if (kind !== "start" && kind !== "end" && kind !== "abort" && kind !== "fail") continue;
    lines.push({ taskId, kind, nodeId, at: Number(at), attempt: Number(attempt) });
  }
  return lines;
}

/** Per task: its start and end lines in log order. */
export function byTask(lines: readonly LogLine[]): Map<string, { starts: LogLine[]; ends: LogLine[] }> {
  const tasks = new Map<string, { starts: LogLine[]; ends: LogLine[] }>();
  for (const l of lines) {
    const entry = tasks.get(l.taskId) ?? { starts: [], ends: [] };
    if (l.kind === "start") entry.starts.push(l);
    if (l.kind === "end") entry.ends.push(l);
    tasks.set(l.taskId, entry);
  }
  return tasks;
}

/** Tasks that started on `nodeId` and have no end or abort line of that run. */
export function inFlightOn(lines: readonly LogLine[], nodeId: string): Set<string> {
  const open = new Set<string>();
  for (const l of lines) {
    if (l.nodeId !== nodeId) continue;
    if (l.kind === "start") open.add(l.taskId);
    else open.delete(l.taskId);
  }
  return open;
}

// ---------------------------------------------------------------------------
// Polling and the database

/** Polls `check` until it returns a value that is not false/null/undefined; fails after `ms` with `what`. */
export async function until<T>(
  what: string | (() => string),
  check: () => T | false | null | undefined | Promise<T | false | null | undefined>,
  ms = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== false && value !== null && value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`not within ${ms} ms: ${typeof what === "string" ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A small pg pool on the test database, for reading committed state. */
export function openReader(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: urlForNode(databaseUrl, "test-reader"), max: 2 });
  // pg-pool's end() resolves before its idle connections have closed, so the
  // DROP DATABASE ... WITH (FORCE) that follows can terminate one of them; the
  // pool then emits that as an error, which with no listener crashed the run.
  pool.on("error", () => undefined);
  return pool;
}

export interface TaskRow {
  id: string;
  tree_id: string;
  name: string;
  status: string;
  attempt: number;
  lease_owner: string | null;
}

export async function taskRows(db: pg.Pool, treeIds: string[]): Promise<TaskRow[]> {
  const { rows } = await db.query<TaskRow>(
    "SELECT id, tree_id, name, status, attempt, lease_owner FROM tasks WHERE tree_id = ANY($1::text[])",
    [treeIds],
  );
  return rows;
}

export async function statusCounts(db: pg.Pool, treeIds: string[]): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM tasks WHERE tree_id = ANY($1::text[]) GROUP BY status",
    [treeIds],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

export interface EventRow {
  tree_id: string;
  seq: number;
  task_id: string;
  type: string;
  status: string;
  attempt: number;
  data: Record<string, unknown> | null;
  at: Date;
}

export async function eventRows(db: pg.Pool, treeIds: string[]): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT tree_id, seq::int AS seq, task_id, type, status, attempt, data, at
       FROM task_events WHERE tree_id = ANY($1::text[]) ORDER BY tree_id, seq`,
    [treeIds],
  );
  return rows;
}

/** Waits until no session of a (killed) node is connected: what it sent is then committed or rolled back. */
export async function waitForNodeSessionsGone(db: pg.Pool, nodeId: string, ms = 30_000): Promise<void> {
  await until(
    `sessions of ${nodeId} closed`,
    async () => {
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
        [`apflow-${nodeId}`],
      );
      return Number(rows[0]?.n) === 0;
    },
    ms,
    20,
  );
}
