/**
 * Hooks: code a library user runs around executions (globally or for one
 * executor) and at the milestones of a tree. A hook that throws is logged and
 * recorded as a `hook_failed` event of the task; it never stops the engine, and a
 * failing `before` hook does not stop the task.
 */
import type { JsonObject, JsonValue, Task } from "./types.js";

export interface BeforeExecuteContext {
  task: Readonly<Task>;
  /** The inputs the executor will receive (dependency results merged). */
  inputs: JsonObject;
}

/** Runs before the executor; may return replacement inputs. */
export type BeforeExecuteHook = (
  ctx: BeforeExecuteContext,
) => JsonObject | undefined | Promise<JsonObject | undefined> | void | Promise<void>;

export interface AfterExecuteContext extends BeforeExecuteContext {
  /** Set when the executor succeeded. */
  result?: JsonValue;
  /** Set when it failed (an ApflowError or what it threw). */
  error?: unknown;
}

export type AfterExecuteHook = (ctx: AfterExecuteContext) => void | Promise<void>;

export type TreeMilestone = "created" | "started" | "completed" | "failed";
/** Called with the tree's root task when the tree reaches a milestone. */
export type TreeHook = (root: Task, milestone: TreeMilestone) => void | Promise<void>;

export class HookRegistry {
  private readonly before = new Map<string, BeforeExecuteHook[]>();
  private readonly after = new Map<string, AfterExecuteHook[]>();
  private readonly tree = new Map<TreeMilestone, TreeHook[]>();

  /** Before every execution, or only of `executorId`. Returns a function that removes it. */
  beforeExecute(hook: BeforeExecuteHook, executorId = "*"): () => void {
    return add(this.before, executorId, hook);
  }

  /** After every execution, or only of `executorId`. */
  afterExecute(hook: AfterExecuteHook, executorId = "*"): () => void {
    return add(this.after, executorId, hook);
  }

  /** When a tree is created, starts (first task claimed), completes, or fails. */
  onTree(milestone: TreeMilestone, hook: TreeHook): () => void {
    return add(this.tree, milestone, hook);
  }

  /** Global hooks first, then the executor's own. */
  beforeHooks(executorId: string): BeforeExecuteHook[] {
    return [...(this.before.get("*") ?? []), ...(this.before.get(executorId) ?? [])];
  }

  afterHooks(executorId: string): AfterExecuteHook[] {
    return [...(this.after.get("*") ?? []), ...(this.after.get(executorId) ?? [])];
  }

  treeHooks(milestone: TreeMilestone): TreeHook[] {
    return [...(this.tree.get(milestone) ?? [])];
  }
}

function add<K, V>(map: Map<K, V[]>, key: K, value: V): () => void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
  return () => {
    const current = map.get(key);
    if (current)
      map.set(
        key,
        current.filter((v) => v !== value),
      );
  };
}
