/**
 * Lease upkeep: renewal by the owner while a task runs, and the return to the queue
 * of leases whose owner is gone.
 *
 * Renewal is fenced like completion (id + token + owner + in_progress), so a node
 * learns at its next renewal that a task was cancelled elsewhere or reclaimed: the
 * task is missing from the result and the node aborts it.
 *
 * Reclaiming picks expired rows with FOR UPDATE SKIP LOCKED, so several nodes
 * doing housekeeping at once never process the same row twice. The attempt counter
 * is raised by the next claim.
 */
import type { TaskEvent } from "../../core/types.js";
import type { SqlQueryable } from "../sql.js";
import { appendEvents } from "./append-events.js";

export async function renewLeases(
  tx: SqlQueryable,
  owner: string,
  leases: readonly { taskId: string; leaseToken: string }[],
  leaseMs: number,
): Promise<string[]> {
  if (leases.length === 0) return [];
  const kept = await tx.query<{ id: string }>(
    `UPDATE tasks t SET lease_expires_at = now() + $4 * interval '1 millisecond'
       FROM unnest($1::text[], $2::uuid[]) AS v(id, token)
      WHERE t.id = v.id AND t.lease_token = v.token AND t.lease_owner = $3 AND t.status = 'in_progress'
      RETURNING t.id`,
    [leases.map((l) => l.taskId), leases.map((l) => l.leaseToken), owner, leaseMs],
  );
  const held = new Set(kept.map((r) => r.id));
  return leases.filter((l) => !held.has(l.taskId)).map((l) => l.taskId);
}

/** Which leases go back: those of one owner, or those expired. */
export type ReleaseScope = { owner: string } | { expiredLimit: number };

export async function releaseLeases(tx: SqlQueryable, scope: ReleaseScope): Promise<TaskEvent[]> {
  const byOwner = "owner" in scope;
  const rows = await tx.query<{ id: string; tree_id: string; attempt: number; progress: number }>(
    `UPDATE tasks t
        SET status = 'pending', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE t.id IN (SELECT id FROM tasks
                      WHERE status = 'in_progress'
                        AND ${byOwner ? "lease_owner = $2" : "lease_expires_at < now()"}
                      ORDER BY lease_expires_at
                      LIMIT $1
                      FOR UPDATE SKIP LOCKED)
      RETURNING t.id, t.tree_id, t.attempt, t.progress`,
    byOwner ? [100_000, scope.owner] : [scope.expiredLimit],
  );
  const why = byOwner ? "its node restarted or stopped" : "its lease expired";
  return appendEvents(
    tx,
    rows.map((r) => ({
      treeId: r.tree_id,
      taskId: r.id,
      type: "lease_expired" as const,
      status: "pending" as const,
      progress: Number(r.progress),
      attempt: Number(r.attempt),
      message: `returned to the queue: ${why}`,
      data: null,
    })),
  );
}
