/**
 * The ready-queue scheduler of one node. It claims ready tasks through the store
 * (with a lease, in priority order), runs their executors up to `maxParallel` at
 * once, and writes outcomes back in batches. The store decides readiness, so the
 * same loop serves one embedded process and a cluster of nodes.
 */
import { ApflowError, ErrorCode, errorMessage, isApflowError, validationError } from "./errors.js";
import type { ExecutorContext, Logger } from "./executor.js";
import type { ExecutorRegistry } from "./executor-registry.js";
import { type AfterExecuteContext, HookRegistry } from "./hooks.js";
import { mergeDependencyResults } from "./inputs.js";
import { silentLogger } from "./logger.js";
import type { NodeCapabilities } from "./placement.js";
import type { ClaimedTask, Clock, EventBus, Outcome, ProgressUpdate, TaskStore } from "./ports.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, retryDelayMs } from "./retry.js";
import type { JsonObject, JsonValue, Task, TaskEvent } from "./types.js";

export interface EngineOptions {
  store: TaskStore;
  executors: ExecutorRegistry;
  bus: EventBus;
  clock: Clock;
  nodeId: string;
  logger?: Logger;
  /** Tasks run at once by this node (APFLOW_MAX_PARALLEL_TASKS). */
  maxParallel?: number;
  /** Lease length; renewed every third of it while a task runs. */
  leaseMs?: number;
  /** Idle nodes look for work this often even without a wake-up. */
  pollIntervalMs?: number;
  /** How often this node returns expired leases to the queue (0 disables: the cluster leader does it). */
  reclaimIntervalMs?: number;
  /** Progress reports of one task are written at most this often. */
  progressIntervalMs?: number;
  retry?: RetryPolicy;
  random?: () => number;
  hooks?: HookRegistry;
  /** Capability tags tasks can require through their placement (APFLOW_NODE_TAGS). */
  tags?: string[];
  /** Claim only tasks of these trees (see NodeCapabilities.trees); every tree when absent. */
  trees?: readonly string[];
}

/** Why an executor's signal was aborted, when it was not a timeout. */
type StopReason = "cancelled" | "lease_lost" | "shutdown";

interface Running {
  claimed: ClaimedTask;
  controller: AbortController;
  stopReason: StopReason | null;
  /** Whether the task reported progress before (its first report skips the throttle). */
  reportedProgress: boolean;
  done: Promise<void>;
}

/** Errors that another attempt cannot fix. */
const NOT_RETRYABLE = new Set<string>([
  ErrorCode.EXECUTOR_NOT_FOUND,
  ErrorCode.EXECUTOR_FORBIDDEN,
  ErrorCode.VALIDATION_ERROR,
  ErrorCode.CANCELLED,
]);

export class Engine {
  private readonly store: TaskStore;
  private readonly bus: EventBus;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxParallel: number;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly reclaimIntervalMs: number;
  private readonly progressIntervalMs: number;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly hooks: HookRegistry;
  private trees: readonly string[] | undefined;

  private readonly running = new Map<string, Running>();
  private readonly outcomes: Outcome[] = [];
  private readonly progress = new Map<string, ProgressUpdate>();
  private flushing: Promise<void> | null = null;
  private flushScheduled = false;
  private progressTimer: (() => void) | null = null;

  private state: "idle" | "running" | "stopping" | "stopped" = "idle";
  private loopDone: Promise<void> = Promise.resolve();
  private wakeRequested = false;
  private wakeWaiter: (() => void) | null = null;
  private readonly timers = new Set<() => void>();
  private readonly idleWaiters = new Set<() => void>();
  private unsubscribeBus: () => void = () => {};

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.clock = options.clock;
    this.logger = (options.logger ?? silentLogger).child({ component: "engine", node: options.nodeId });
    this.maxParallel = Math.max(1, options.maxParallel ?? 10);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.reclaimIntervalMs = options.reclaimIntervalMs ?? 5_000;
    this.progressIntervalMs = options.progressIntervalMs ?? 250;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.random = options.random ?? Math.random;
    this.hooks = options.hooks ?? new HookRegistry();
    this.trees = options.trees;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** What this node can run: its available executors and its tags (and the trees it is limited to). */
  capabilities(): NodeCapabilities {
    return {
      nodeId: this.options.nodeId,
      executors: this.options.executors.availableIds(),
      tags: this.options.tags ?? [],
      ...(this.trees ? { trees: this.trees } : {}),
    };
  }

  /** From now on, claims only tasks of these trees (every tree: undefined), and looks for them at once. */
  limitToTrees(trees: readonly string[] | undefined): void {
    this.trees = trees;
    this.wake();
  }

  /** Task ids this node is running now. */
  runningTaskIds(): string[] {
    return [...this.running.keys()];
  }

  /**
   * Starts claiming. Leases still held under this node id belong to a previous
   * process of the same node (a crash): they go back to the queue at once instead
   * of waiting for expiry.
   */
  async start(): Promise<void> {
    if (this.state !== "idle") return;
    this.state = "running";
    this.publish(await this.store.releaseOwner(this.nodeId));
    // A cancel committed anywhere (this node, or another one relayed here) stops the
    // executor at once; lease renewal catches any notification that got lost.
    this.unsubscribeBus = this.bus.subscribe("*", (event) => {
      if (event.type !== "cancelled") return;
      const run = this.running.get(event.taskId);
      if (run && run.claimed.task.attempt === event.attempt) this.abortRun(run, "cancelled");
    });
    this.repeat(Math.max(50, Math.floor(this.leaseMs / 3)), () => this.renewLeases());
    if (this.reclaimIntervalMs > 0) this.repeat(this.reclaimIntervalMs, () => this.reclaimExpired());
    this.loopDone = this.loop();
  }

  /** Looks for ready work now (after new tasks were queued or finished). */
  wake(): void {
    this.wakeRequested = true;
    const waiter = this.wakeWaiter;
    this.wakeWaiter = null;
    waiter?.();
  }

  /**
   * Stops claiming, gives running tasks `graceMs` to finish, then aborts the rest and
   * returns them to the queue (they run again on the next start), and writes every
   * outcome still buffered.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.state === "stopped" || this.state === "idle") {
      this.state = "stopped";
      return;
    }
    this.state = "stopping";
    this.unsubscribeBus();
    this.wake();
    await this.loopDone;
    if (this.running.size > 0 && graceMs > 0) {
      let cancelGrace = () => {};
      await Promise.race([
        Promise.all([...this.running.values()].map((r) => r.done)),
        new Promise<void>((resolve) => {
          cancelGrace = this.clock.setTimer(graceMs, resolve);
        }),
      ]);
      // A pending grace timer would keep the process alive after everything closed.
      cancelGrace();
    }
    const abandoned = [...this.running.values()];
    for (const run of abandoned) this.abortRun(run, "shutdown");
    await Promise.all(abandoned.map((r) => r.done));
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.progressTimer?.();
    this.progressTimer = null;
    await this.flush();
    if (abandoned.length > 0) {
      // Our own leases: hand them back so the next start (or another node) reruns them.
      this.publish(await this.store.releaseOwner(this.nodeId));
    }
    this.state = "stopped";
    this.notifyIdle();
  }

  /** Aborts the executors of tasks this node runs that were just cancelled. */
  abortCancelled(taskIds: Iterable<string>): void {
    for (const id of taskIds) {
      const run = this.running.get(id);
      if (run) this.abortRun(run, "cancelled");
    }
  }

  /** Resolves when nothing runs and no outcome waits to be written (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.outcomes.length > 0 || this.flushing) {
      await new Promise<void>((resolve) => this.idleWaiters.add(resolve));
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.state === "running") {
      this.wakeRequested = false;
      // Outcomes waiting for a write still count, so claims run at most one batch
      // (the one being written) ahead of commits.
      const free = this.maxParallel - this.running.size - this.outcomes.length;
      let claimedAll = false;
      if (free > 0) {
        try {
          const { tasks, events } = await this.store.claim(this.capabilities(), free, this.leaseMs);
          failures = 0;
          this.publish(events);
          for (const claimed of tasks) this.startRun(claimed);
          claimedAll = tasks.length === free;
        } catch (error) {
          failures++;
          this.logger.error("claiming tasks failed", { error });
          await this.waitForWake(Math.min(this.pollIntervalMs, 100 * 2 ** Math.min(failures, 6)));
          continue;
        }
      }
      if (this.state !== "running") break;
      // A full batch means more may be ready: look again at once when slots free up.
      if (claimedAll && this.running.size < this.maxParallel) continue;
      if (!this.wakeRequested) await this.waitForWake(this.pollIntervalMs);
    }
  }

  private waitForWake(ms: number): Promise<void> {
    if (this.wakeRequested) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const cancel = this.clock.setTimer(ms, () => {
        this.wakeWaiter = null;
        resolve();
      });
      this.wakeWaiter = () => {
        cancel();
        resolve();
      };
    });
  }

  private startRun(claimed: ClaimedTask): void {
    const controller = new AbortController();
    const run: Running = { claimed, controller, stopReason: null, reportedProgress: false, done: Promise.resolve() };
    this.running.set(claimed.task.id, run);
    run.done = this.execute(run).finally(() => {
      this.running.delete(claimed.task.id);
      this.wake();
      this.notifyIdle();
    });
  }

  private async execute(run: Running): Promise<void> {
    const { task, leaseToken, dependencies } = run.claimed;
    const signal = run.controller.signal;
    const logger = this.logger.child({ task: task.id, executor: task.executor, attempt: task.attempt });
    let cancelTimeout: (() => void) | null = null;
    if (task.timeoutMs !== null) {
      cancelTimeout = this.clock.setTimer(task.timeoutMs, () => {
        run.controller.abort(
          new ApflowError(ErrorCode.TIMEOUT, `task "${task.name}" timed out after ${task.timeoutMs} ms`),
        );
      });
    }
    try {
      const executor = this.options.executors.resolve(task.executor);
      const context: ExecutorContext = {
        signal,
        task: Object.freeze({ ...task }),
        params: task.params,
        dependencies,
        logger,
        reportProgress: (progress, message) => this.reportProgress(task.id, leaseToken, progress, message),
      };
      const inputs = mergeDependencyResults(task.inputs, dependencies);
      const problems = this.options.executors.inputProblems(task.executor, inputs, "run");
      if (problems.length > 0) {
        throw validationError(
          problems.map((p) => ({ path: `inputs${p.path}`, code: ErrorCode.VALIDATION_ERROR, message: p.message })),
          `input of "${task.name}" (its inputs with dependency results merged)`,
          "the executor was not run",
        );
      }
      const hookInputs = await this.runBeforeHooks(task, inputs);
      const result = toJson(await untilAborted(executor.execute(hookInputs, context), signal));
      await this.runAfterHooks(task, { task, inputs: hookInputs, result });
      this.record({ kind: "completed", taskId: task.id, leaseToken, result });
    } catch (thrown) {
      if (run.stopReason !== null) {
        // Cancelled: the store already says so. Lease lost: another owner has the task.
        // Shutdown: the lease is released in stop().
        logger.debug("execution stopped", { reason: run.stopReason });
        return;
      }
      const error = signal.aborted ? signal.reason : thrown;
      await this.runAfterHooks(task, { task, inputs: task.inputs, error });
      const code = isApflowError(error) ? error.code : ErrorCode.EXECUTOR_FAILED;
      const retry = task.attempt < task.maxAttempts && !NOT_RETRYABLE.has(code);
      logger.warn(retry ? "attempt failed, will retry" : "task failed", { code, error: errorMessage(error) });
      this.record({
        kind: "failed",
        taskId: task.id,
        leaseToken,
        error: errorMessage(error),
        errorCode: code,
        ...(retry ? { retryInMs: retryDelayMs(task.attempt, this.retry, this.random) } : {}),
      });
    } finally {
      cancelTimeout?.();
    }
  }

  private async runBeforeHooks(task: Task, inputs: JsonObject): Promise<JsonObject> {
    let current = inputs;
    for (const hook of this.hooks.beforeHooks(task.executor)) {
      try {
        const replaced = await hook({ task, inputs: current });
        if (replaced) current = replaced;
      } catch (error) {
        await this.hookFailed(task, "before-execute", error);
      }
    }
    return current;
  }

  private async runAfterHooks(task: Task, context: AfterExecuteContext): Promise<void> {
    for (const hook of this.hooks.afterHooks(task.executor)) {
      try {
        await hook(context);
      } catch (error) {
        await this.hookFailed(task, "after-execute", error);
      }
    }
  }

  /** A failing hook is logged and recorded on the task; the run goes on. */
  private async hookFailed(task: Task, phase: string, error: unknown): Promise<void> {
    const message = `${phase} hook failed: ${errorMessage(error)}`;
    this.logger.warn(message, { task: task.id });
    try {
      this.publish(await this.store.addEvent(task.id, "hook_failed", message, { phase }));
    } catch (recordError) {
      this.logger.error("recording a hook failure failed", { error: recordError });
    }
  }

  private abortRun(run: Running, reason: StopReason): void {
    if (run.stopReason !== null) return;
    run.stopReason = reason;
    const code = reason === "cancelled" ? ErrorCode.CANCELLED : ErrorCode.LEASE_LOST;
    run.controller.abort(new ApflowError(code, `execution stopped: ${reason}`));
  }

  /**
   * A task's first progress report is written at once; later ones at most once per
   * `progressIntervalMs` for the whole node (latest value per task). A report made
   * obsolete by the task's outcome is dropped.
   */
  private reportProgress(taskId: string, leaseToken: string, progress: number, message?: string): void {
    const run = this.running.get(taskId);
    if (!run || !Number.isFinite(progress)) return;
    const clamped = Math.min(1, Math.max(0, progress));
    this.progress.set(taskId, { taskId, leaseToken, progress: clamped, message: message ?? null });
    const first = !run.reportedProgress;
    run.reportedProgress = true;
    if (first || !this.progressTimer) this.scheduleFlush();
    if (this.progressTimer) return;
    const cooldown = () => {
      this.progressTimer = null;
      if (this.progress.size === 0) return;
      this.scheduleFlush();
      this.progressTimer = this.clock.setTimer(this.progressIntervalMs, cooldown);
    };
    this.progressTimer = this.clock.setTimer(this.progressIntervalMs, cooldown);
  }

  /** Buffers an outcome; outcomes of the same moment are written in one transaction. */
  private record(outcome: Outcome): void {
    this.progress.delete(outcome.taskId);
    this.outcomes.push(outcome);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Writes buffered outcomes and progress; one flush at a time, in order. */
  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.outcomes.length === 0 && this.progress.size === 0) return;
    const outcomes = this.outcomes.splice(0);
    const progress = [...this.progress.values()];
    this.progress.clear();
    // The next claim may run while these outcomes are written (it no longer counts
    // them), so claiming and finishing overlap instead of taking turns. Leases held
    // stay bounded: the running tasks plus at most the one batch being written.
    if (outcomes.length > 0) this.wake();
    this.flushing = (async () => {
      try {
        if (progress.length > 0) this.publish(await this.store.reportProgress(progress));
        if (outcomes.length > 0) {
          const { events, lost } = await this.store.finish(outcomes);
          this.publish(events);
          if (lost.length > 0) this.logger.warn("outcomes dropped: lease no longer held", { tasks: lost });
          for (const outcome of outcomes) {
            if (outcome.kind === "failed" && outcome.retryInMs !== undefined) {
              this.once(outcome.retryInMs, () => this.wake());
            }
          }
          this.wake();
        }
      } catch (error) {
        // The leases still hold: put the outcomes back and try again shortly.
        this.logger.error("writing outcomes failed; retrying", { error, count: outcomes.length });
        this.outcomes.unshift(...outcomes);
        this.once(200, () => this.scheduleFlush());
      }
    })();
    await this.flushing;
    this.flushing = null;
    this.notifyIdle();
  }

  private async renewLeases(): Promise<void> {
    if (this.running.size === 0) return;
    const leases = [...this.running.values()].map((r) => ({
      taskId: r.claimed.task.id,
      leaseToken: r.claimed.leaseToken,
    }));
    try {
      const lost = await this.store.renewLeases(this.nodeId, leases, this.leaseMs);
      for (const id of lost) {
        const run = this.running.get(id);
        // A task cancelled elsewhere (or reclaimed after expiry) loses its lease here.
        if (run) this.abortRun(run, "lease_lost");
      }
    } catch (error) {
      this.logger.error("renewing leases failed", { error });
    }
  }

  private async reclaimExpired(): Promise<void> {
    try {
      const events = await this.store.reclaimExpired(1_000);
      if (events.length > 0) {
        this.publish(events);
        this.wake();
      }
    } catch (error) {
      this.logger.error("reclaiming expired leases failed", { error });
    }
  }

  private repeat(ms: number, fn: () => Promise<void>): void {
    const tick = () => {
      this.timers.delete(cancel);
      if (this.state !== "running") return;
      void fn().finally(() => {
        if (this.state === "running") cancel = this.once(ms, tick);
      });
    };
    let cancel = this.once(ms, tick);
  }

  private once(ms: number, fn: () => void): () => void {
    const cancel = this.clock.setTimer(ms, () => {
      this.timers.delete(cancel);
      fn();
    });
    this.timers.add(cancel);
    return cancel;
  }

  private publish(events: readonly TaskEvent[]): void {
    this.bus.publish(events);
  }

  private notifyIdle(): void {
    if (this.running.size > 0 || this.outcomes.length > 0 || this.flushing) return;
    const waiters = [...this.idleWaiters];
    this.idleWaiters.clear();
    for (const resolve of waiters) resolve();
  }
}

/** Settles with the executor, or rejects as soon as the signal aborts (an executor that ignores it cannot hold a slot). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Executor results are stored as JSON: undefined becomes null, anything else must survive JSON. */
function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
