/**
 * The library entry point: `createApflow()` opens the database (embedded PGlite by
 * default, PostgreSQL with a URL), starts this node's engine, and returns the task
 * operations every interface is built on.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { relayClusterEvents } from "./cluster/event-relay.js";
import { ClusterMember } from "./cluster/member.js";
import { type ApflowConfig, loadConfig } from "./config/index.js";
import { systemClock } from "./core/clock.js";
import { Engine } from "./core/engine.js";
import { LocalEventBus } from "./core/event-bus.js";
import type { Executor, Logger } from "./core/executor.js";
import { ExecutorRegistry } from "./core/executor-registry.js";
import { HookRegistry } from "./core/hooks.js";
import { createLogger } from "./core/logger.js";
import type { EventListener } from "./core/ports.js";
import { ScheduleService } from "./core/schedule-service.js";
import { Scheduler } from "./core/scheduler.js";
import { type CreateTreeOptions, TaskService } from "./core/task-service.js";
import { runTreeHooks } from "./core/tree-hooks.js";
import { applyAccessRules } from "./executors/access.js";
import { builtinExecutors } from "./executors/builtin.js";
import { loadExecutorDirs } from "./executors/load-dirs.js";
import { type Database, MEMORY_DATA_DIR, openDatabase } from "./storage/database.js";
import { listNodes } from "./storage/sql/cluster.js";
import { SqlTaskStore } from "./storage/sql-task-store.js";

export interface ApflowOptions extends Partial<ApflowConfig> {
  /** Executors to register besides the built-in ones. */
  executors?: Executor[];
  /** Run tasks on this node (default true; false serves reads and writes only). */
  runTasks?: boolean;
  /**
   * With runTasks, run only tasks of these trees until `engine.limitToTrees` says
   * otherwise (the CLI starts with none and adds the tree it creates).
   */
  onlyTrees?: readonly string[];
  logger?: Logger;
  /** Written into the data-dir lock so a second process can find this one's API. */
  apiUrl?: string;
  /** Diagnostics: called with every SQL statement Prisma sends. */
  onQuery?: (sql: string) => void;
  /**
   * A configuration already resolved (the CLI's layers: file, environment, flags), used
   * instead of reading the environment and the working directory's file again.
   */
  config?: ApflowConfig;
}

export interface Apflow {
  readonly nodeId: string;
  readonly config: ApflowConfig;
  readonly database: Database;
  readonly executors: ExecutorRegistry;
  readonly engine: Engine | null;
  /** This node's membership: leadership, heartbeats. */
  readonly cluster: ClusterMember;
  readonly bus: LocalEventBus;
  readonly tasks: TaskService;
  /** Schedules of root tasks: set, enable, disable, clear, trigger, list, iCalendar export. */
  readonly schedules: ScheduleService;
  /** Before/after-execution hooks (global or per executor) and tree milestone hooks. */
  readonly hooks: HookRegistry;
  readonly logger: Logger;
  /** Creates a tree from apflow's flat task array (or `TaskBuilder.build()`); returns the root. */
  createTree: TaskService["createTree"];
  getTask: TaskService["getTask"];
  getTaskTree: TaskService["getTaskTree"];
  listTasks: TaskService["listTasks"];
  executeTask: TaskService["execute"];
  cancelTask: TaskService["cancel"];
  copyTask: TaskService["copy"];
  deleteTask: TaskService["delete"];
  events: TaskService["events"];
  waitForTree: TaskService["waitForTree"];
  /** Listens to one tree's committed events (or all with "*"); returns unsubscribe. */
  subscribe(treeId: string, listener: EventListener): () => void;
  registerExecutor(executor: Executor): void;
  /** Stops the engine (running tasks get the shutdown grace, then are requeued) and closes the database. */
  close(): Promise<void>;
}

export type { CreateTreeOptions };

export async function createApflow(options: ApflowOptions = {}): Promise<Apflow> {
  const {
    executors: extra = [],
    runTasks = true,
    onlyTrees,
    apiUrl,
    onQuery,
    logger: givenLogger,
    config: resolved,
    ...overrides
  } = options;
  const config: ApflowConfig = { ...(resolved ?? loadConfig()), ...definedOnly(overrides) };
  if (overrides.databaseUrl === undefined && "databaseUrl" in overrides) config.databaseUrl = undefined;
  const logger = givenLogger ?? createLogger(config.logLevel);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.databaseUrl ? undefined : config.dataDir,
    apiUrl,
    logger,
    onQuery,
  });
  try {
    const nodeId = config.nodeId ?? (await defaultNodeId(database));
    // Built-ins read the registry lazily (generate_executor lists what this node offers).
    const registry: ExecutorRegistry = new ExecutorRegistry([
      ...builtinExecutors({ ...config, listExecutors: () => registry.list() }),
      ...(await loadExecutorDirs(config.executorDirs)),
      ...extra,
    ]);
    if (!config.allowCommand) {
      registry.block(
        "command_executor",
        "command_executor is off: set APFLOW_STDIO_ALLOW_COMMAND=1 to let tasks run host commands",
      );
    }
    if (!config.docker.enabled) {
      registry.block(
        "docker_executor",
        "docker_executor is off: set APFLOW_DOCKER_ENABLED=1 (and APFLOW_DOCKER_HOST) to run containers",
      );
    }
    applyAccessRules(registry, { executors: config.allowedExecutors, extensions: config.allowedExtensions });
    const hooks = new HookRegistry();
    const bus = new LocalEventBus((error) => logger.error("event listener failed", { error }));
    const store = new SqlTaskStore(database.sql);
    const runsTasks = runTasks && config.nodeRole !== "observer";
    const engine = runsTasks
      ? new Engine({
          store,
          executors: registry,
          bus,
          clock: systemClock,
          nodeId,
          logger,
          maxParallel: config.maxParallelTasks,
          leaseMs: config.leaseMs,
          pollIntervalMs: config.pollIntervalMs,
          retry: config.retry,
          hooks,
          tags: config.nodeTags,
          ...(onlyTrees ? { trees: onlyTrees } : {}),
          // Expired leases are requeued by the cluster's leader (see ClusterMember).
          reclaimIntervalMs: 0,
        })
      : null;
    const tasks = new TaskService(store, registry, bus, engine, async () => {
      const nodes = await listNodes(database.sql, config.staleMs, config.deadMs);
      return nodes.filter((n) => n.status !== "dead" && n.id !== nodeId).flatMap((n) => n.executors);
    });
    const schedules = new ScheduleService(store, tasks, bus, systemClock);
    const scheduler = new Scheduler({
      store,
      tasks,
      bus,
      clock: systemClock,
      logger,
      intervalMs: config.scheduler.intervalMs,
      missedRuns: config.scheduler.missedRuns,
    });
    const stopTreeHooks = runTreeHooks({
      bus,
      store,
      hooks,
      logger,
      recordFailure: async (taskId, message) => bus.publish(await store.addEvent(taskId, "hook_failed", message)),
    });
    await engine?.start();
    const member = new ClusterMember({
      sql: database.sql,
      store,
      bus,
      nodeId,
      role: runsTasks ? config.nodeRole : "observer",
      tags: config.nodeTags,
      apiUrl,
      // A node limited to some trees (a CLI run) takes no other work: it offers the
      // cluster no executors, so a task only it could run still says why it waits.
      executors: () => (engine && !engine.capabilities().trees ? registry.availableIds() : []),
      running: () => engine?.runningTaskIds().length ?? 0,
      onRequeued: () => engine?.wake(),
      // Due schedules run on the leader only (the single embedded node always leads).
      ...(config.scheduler.enabled
        ? { leaderTick: { intervalMs: config.scheduler.intervalMs, run: (fence) => scheduler.tick(fence) } }
        : {}),
      logger,
      leaderLeaseMs: config.leaderLeaseMs,
      heartbeatMs: config.heartbeatMs,
      staleMs: config.staleMs,
      deadMs: config.deadMs,
      // Often enough to requeue soon after a lease expires, never more than once a second.
      reclaimMs: Math.max(1_000, Math.min(config.pollIntervalMs, Math.floor(config.leaseMs / 3))),
    });
    await member.start();
    // Other nodes only exist on a server: the embedded database is locked to this process.
    const stopRelay =
      database.dialect === "postgres"
        ? await relayClusterEvents({ sql: database.sql, store, bus, logger, onNotification: () => engine?.wake() })
        : async () => {};
    logger.info("apflow started", {
      node: nodeId,
      role: runsTasks ? config.nodeRole : "observer",
      leader: member.isLeader,
      storage: database.dialect,
      ...(database.dataDir ? { dataDir: database.dataDir } : {}),
    });
    let closing: Promise<void> | null = null;
    return {
      nodeId,
      config,
      database,
      executors: registry,
      engine,
      cluster: member,
      bus,
      tasks,
      schedules,
      hooks,
      logger,
      createTree: (input: unknown, opts?: CreateTreeOptions) => tasks.createTree(input, opts),
      getTask: (id) => tasks.getTask(id),
      getTaskTree: (id) => tasks.getTaskTree(id),
      listTasks: (query) => tasks.listTasks(query),
      executeTask: (id, opts) => tasks.execute(id, opts),
      cancelTask: (id, message) => tasks.cancel(id, message),
      copyTask: (id, opts) => tasks.copy(id, opts),
      deleteTask: (id) => tasks.delete(id),
      events: (treeId, after, limit) => tasks.events(treeId, after, limit),
      waitForTree: (treeId, opts) => tasks.waitForTree(treeId, opts),
      subscribe: (treeId, listener) => bus.subscribe(treeId, listener),
      registerExecutor: (executor) => {
        registry.register(executor);
      },
      close() {
        closing ??= (async () => {
          await engine?.stop(config.shutdownGraceMs);
          await stopRelay();
          await member.stop();
          stopTreeHooks();
          await database.close();
          logger.info("apflow stopped", { node: nodeId });
        })();
        return closing;
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * An embedded node keeps its id in the data directory: after a crash the restarted
 * process recognises its own leases and requeues them at once instead of waiting
 * for them to expire. A server node gets a fresh id per process.
 */
async function defaultNodeId(database: Database): Promise<string> {
  const generated = `${hostname()}-${randomBytes(4).toString("hex")}`;
  if (!database.dataDir || database.dataDir === MEMORY_DATA_DIR) return generated;
  const file = path.join(database.dataDir, "node-id");
  try {
    const stored = (await readFile(file, "utf8")).trim();
    if (stored) return stored;
  } catch {
    // First start in this directory.
  }
  await writeFile(file, `${generated}\n`);
  return generated;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
