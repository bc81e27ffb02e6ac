/**
 * Fires tree hooks from committed events: `created` on the root's created event,
 * `started` on the event flagged treeStarted, `completed`/`failed` on the event
 * flagged treeFinished. Events are published only by the node that committed them,
 * so each milestone fires once across a cluster.
 */
import type { Logger } from "./executor.js";
import type { HookRegistry, TreeMilestone } from "./hooks.js";
import type { EventBus, TaskStore } from "./ports.js";
import type { TaskEvent } from "./types.js";

export function runTreeHooks(options: {
  bus: EventBus;
  store: TaskStore;
  hooks: HookRegistry;
  logger: Logger;
  /** Records a failing hook as an event of the root task. */
  recordFailure(taskId: string, message: string): Promise<void>;
}): () => void {
  const { store, hooks, logger } = options;
  const fire = async (event: TaskEvent, milestone: TreeMilestone | "finished") => {
    const candidates: TreeMilestone[] = milestone === "finished" ? ["completed", "failed"] : [milestone];
    if (candidates.every((m) => hooks.treeHooks(m).length === 0)) return;
    const tree = await store.getTree(event.treeId);
    const root = tree.find((t) => t.id === event.treeId);
    if (!root) return;
    const resolved: TreeMilestone =
      milestone !== "finished" ? milestone : tree.every((t) => t.status === "completed") ? "completed" : "failed";
    for (const hook of hooks.treeHooks(resolved)) {
      try {
        await hook(root, resolved);
      } catch (error) {
        const message = `tree hook "${resolved}" failed: ${error instanceof Error ? error.message : String(error)}`;
        logger.warn(message, { tree: root.id });
        await options
          .recordFailure(root.id, message)
          .catch((e: unknown) => logger.error("recording a hook failure failed", { error: e }));
      }
    }
  };
  return options.bus.subscribe("*", (event) => {
    // Each milestone fires on the node that committed it, not again where it is relayed.
    if (event.remote) return;
    const milestones: (TreeMilestone | "finished")[] = [];
    if (event.type === "created" && event.taskId === event.treeId) milestones.push("created");
    if (event.treeStarted) milestones.push("started");
    if (event.treeFinished) milestones.push("finished");
    for (const milestone of milestones) {
      fire(event, milestone).catch((error: unknown) => logger.error("running tree hooks failed", { error }));
    }
  });
}
