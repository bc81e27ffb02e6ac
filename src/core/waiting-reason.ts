/**
 * Why a pending task is not running yet, in words an operator can act on. The
 * checks follow the claim query's conditions in order.
 */
import { type NodeCapabilities, placementRefusal } from "./placement.js";
import type { Placement } from "./types.js";

export interface WaitingTask {
  status: string;
  queued: boolean;
  openDeps: number;
  notBefore: Date | null;
  executor: string;
  placement: Placement | null;
}

/** Null unless the task is pending. `nodes`: live nodes that run tasks. */
export function waitingReason(task: WaitingTask, nodes: readonly NodeCapabilities[], now: Date): string | null {
  if (task.status !== "pending") return null;
  if (!task.queued) return "not asked to run: call executeTask on it or its tree";
  if (task.openDeps > 0) {
    return `waiting for ${task.openDeps} ${task.openDeps === 1 ? "dependency" : "dependencies"} to finish`;
  }
  if (task.notBefore && task.notBefore > now) return `retrying after a backoff, at ${task.notBefore.toISOString()}`;
  if (nodes.length === 0) return "no live node runs tasks (start a worker, or check the nodes' heartbeats)";
  const refusals = nodes.map((node) => ({
    node: node.nodeId,
    why: placementRefusal(task.executor, task.placement, node),
  }));
  if (refusals.every((r) => r.why !== null)) {
    return `no live node can run it: ${refusals.map((r) => `${r.node} ${r.why}`).join("; ")}`;
  }
  return "ready: waiting for a free slot on a node";
}
