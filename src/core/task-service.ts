/**
 * The task operations every interface shares (library API, GraphQL, CLI): create,
 * read, run, cancel, copy, delete and watch task trees. It validates, calls the
 * store, publishes what the store committed, and wakes the engine.
 */
import { normalizeTaskSpecs } from "./apflow-format.js";
import { ApflowError, ErrorCode } from "./errors.js";
import type { ExecutorRegistry } from "./executor-registry.js";
import { newId } from "./ids.js";
import type { EventBus, TaskQuery, TaskStore } from "./ports.js";
import { SingleFlight } from "./single-flight.js";
import { planCopy, TreeIndex } from "./tree-ops.js";
import { idempotencyKeysOf, planTree, referencedIds, type TaskSpec, validatePatch } from "./tree-plan.js";
import { isFinalEvent, type Task, type TaskEvent } from "./types.js";

/** A task with its children, as `getTaskTree` returns it. */
export interface TaskNode extends Task {
  children: TaskNode[];
}

export interface CreateTreeOptions {
  /** Ask the tree to run right away (default false: it waits for `execute`). */
  execute?: boolean;
  /** Owner recorded on every task (from the authenticated caller). */
  userId?: string | null;
}

/** What the engine must hear from the service. */
export interface EngineHandle {
  wake(): void;
  abortCancelled(taskIds: Iterable<string>): void;
}

export class TaskService {
  private readonly eventReads = new SingleFlight<TaskEvent[]>();
  private readonly openCountReads = new SingleFlight<number>();

  constructor(
    private readonly store: TaskStore,
    private readonly executors: ExecutorRegistry,
    private readonly bus: EventBus,
    private readonly engine: EngineHandle | null,
    /** Executors other live nodes offer: a tree may use them though this node lacks them. */
    private readonly clusterExecutors: () => Promise<string[]> = async () => [],
  ) {}

  /**
   * Creates one task tree from apflow's flat array format (camelCase, or the Python
   * apflow's snake_case with `schemas.method`). Returns the root. All-or-nothing.
   */
  async createTree(input: unknown, options: CreateTreeOptions = {}): Promise<Task> {
    const specs = normalizeTaskSpecs(input) as TaskSpec[];
    if (options.userId !== undefined && Array.isArray(specs)) {
      for (const spec of specs) if (spec && typeof spec === "object") spec.userId ??= options.userId;
    }
    const list = Array.isArray(specs) ? specs : [];
    const [existingIds, usedIdempotencyKeys] = await Promise.all([
      this.store.findTrees(referencedIds(list)),
      this.store.findIdempotencyKeys(idempotencyKeysOf(list)),
    ]);
    const localUnknown = list.some(
      (s) => s && typeof s.executor === "string" && this.executors.availability(s.executor) === "unknown",
    );
    const elsewhere = new Set(localUnknown ? await this.clusterExecutors() : []);
    const plan = planTree(specs, {
      executorAvailability: (id) => {
        const here = this.executors.availability(id);
        return here === "unknown" && elsewhere.has(id) ? "available" : here;
      },
      inputProblems: (executor, inputs, hasDependencies) =>
        this.executors.inputProblems(executor, inputs, hasDependencies ? "creation-with-dependencies" : "creation"),
      generateId: newId,
      existingIds,
      usedIdempotencyKeys,
    });
    const events = await this.store.createTree(plan, options.execute === true);
    this.bus.publish(events);
    if (options.execute) this.engine?.wake();
    return this.requireTask(plan.rootId);
  }

  async getTask(id: string): Promise<Task | null> {
    return this.store.getTask(id);
  }

  async requireTask(id: string): Promise<Task> {
    const task = await this.store.getTask(id);
    if (!task) throw new ApflowError(ErrorCode.NOT_FOUND, `task "${id}" not found`);
    return task;
  }

  /** The subtree rooted at `id`, nested. */
  async getTaskTree(id: string): Promise<TaskNode> {
    const task = await this.requireTask(id);
    const nodes = new Map<string, TaskNode>();
    for (const t of await this.store.getTree(task.treeId)) nodes.set(t.id, { ...t, children: [] });
    for (const node of nodes.values()) {
      if (node.parentId) nodes.get(node.parentId)?.children.push(node);
    }
    return nodes.get(id)!;
  }

  async listTasks(query: TaskQuery = {}): Promise<Task[]> {
    return this.store.listTasks(query);
  }

  async countTasks(query: TaskQuery = {}): Promise<number> {
    return this.store.countTasks(query);
  }

  /**
   * Runs the subtree of `id` (and the dependencies it needs); see `planRequeue`.
   * With `idleOnly`, refuses (CONFLICT) while the tree still runs.
   */
  async execute(id: string, options: { rerunAll?: boolean; idleOnly?: boolean } = {}): Promise<Task> {
    const events = await this.store.requeue(id, {
      rerunAll: options.rerunAll === true,
      idleOnly: options.idleOnly === true,
    });
    this.bus.publish(events);
    this.engine?.wake();
    return this.requireTask(id);
  }

  /** Changes a task's editable fields (name, inputs, params, priority, maxAttempts, timeoutMs) unless it is running. */
  async update(id: string, patch: unknown): Promise<Task> {
    const events = await this.store.updateTask(id, validatePatch(patch));
    this.bus.publish(events);
    return this.requireTask(id);
  }

  /** Cancels the task, its descendants and its required dependents; running executors are aborted. */
  async cancel(id: string, message = "cancelled by request"): Promise<Task> {
    const { events, running } = await this.store.cancel(id, message);
    this.bus.publish(events);
    this.engine?.abortCancelled(running);
    this.engine?.wake();
    return this.requireTask(id);
  }

  /** Copies the subtree of `id` into a new independent tree; returns its root. */
  async copy(id: string, options: { execute?: boolean } = {}): Promise<Task> {
    const task = await this.requireTask(id);
    const plan = planCopy(new TreeIndex(await this.store.getTree(task.treeId)), id, newId);
    const events = await this.store.createTree(plan, options.execute === true);
    this.bus.publish(events);
    if (options.execute) this.engine?.wake();
    return this.requireTask(plan.rootId);
  }

  /** Deletes a subtree whose tasks are all pending. */
  async delete(id: string): Promise<boolean> {
    await this.store.deleteSubtree(id);
    return true;
  }

  /** Stored events of a tree after a seq; identical concurrent reads share one query. */
  async events(treeId: string, afterSeq = 0, limit = 1_000): Promise<TaskEvent[]> {
    const key = JSON.stringify([treeId, afterSeq, limit]);
    // A copy per caller: the shared read is not theirs to reorder.
    return [...(await this.eventReads.run(key, () => this.store.listEvents(treeId, afterSeq, limit)))];
  }

  /** Tasks of the tree not yet terminal (0 once it is finished); concurrent reads share one query. */
  async openTaskCount(treeId: string): Promise<number> {
    return this.openCountReads.run(treeId, () => this.store.openTaskCount(treeId));
  }

  /** Resolves with the tree's tasks once every one of them is terminal. */
  async waitForTree(treeId: string, options: { signal?: AbortSignal } = {}): Promise<Task[]> {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        options.signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      // One count query at a time, however many events arrive meanwhile.
      let counting = false;
      let again = false;
      const check = () => {
        if (counting) {
          again = true;
          return;
        }
        counting = true;
        this.store.openTaskCount(treeId).then((open) => {
          counting = false;
          if (open === 0) finish();
          else if (again) {
            again = false;
            check();
          }
        }, finish);
      };
      const onAbort = () => finish(options.signal?.reason);
      // Subscribe before the first read so no terminal event can slip between them.
      const unsubscribe = this.bus.subscribe(treeId, (event) => {
        if (isFinalEvent(event)) check();
      });
      options.signal?.addEventListener("abort", onAbort, { once: true });
      check();
    });
    return this.store.getTree(treeId);
  }
}
