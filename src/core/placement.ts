/**
 * Which node may run which task. A node runs only tasks whose executor it has
 * available; a task's `placement` can narrow that further. The claim query applies
 * the same rules in SQL (src/storage/sql/claim.ts).
 */
import type { Placement } from "./types.js";

export interface NodeCapabilities {
  nodeId: string;
  /** Executor ids this node can run. */
  executors: readonly string[];
  /** Capability tags (APFLOW_NODE_TAGS). */
  tags: readonly string[];
  /**
   * When set, the node claims only tasks of these trees: a CLI process running the
   * tree it created must not take a cluster's other work. Not a placement rule: it
   * says what this process wants, not what the task may run on.
   */
  trees?: readonly string[];
}

/** Why `node` may not run a task with this executor and placement, or null when it may. */
export function placementRefusal(executor: string, placement: Placement | null, node: NodeCapabilities): string | null {
  if (!node.executors.includes(executor)) return `has no executor "${executor}"`;
  if (!placement) return null;
  const missingExecutors = (placement.executors ?? []).filter((e) => !node.executors.includes(e));
  if (missingExecutors.length > 0) return `lacks executors ${missingExecutors.join(", ")}`;
  const missingTags = (placement.tags ?? []).filter((t) => !node.tags.includes(t));
  if (missingTags.length > 0) return `lacks tags ${missingTags.join(", ")}`;
  if (placement.allowNodes && !placement.allowNodes.includes(node.nodeId)) return "is not in allowNodes";
  if (placement.forbidNodes?.includes(node.nodeId)) return "is in forbidNodes";
  return null;
}
