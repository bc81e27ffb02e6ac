/**
 * Claims a batch of ready tasks in one statement.
 *
 * Why it is safe with many nodes: the inner SELECT locks the rows it picks with
 * FOR UPDATE SKIP LOCKED, so concurrent claimers skip each other's rows instead of
 * waiting or double-claiming, and the outer UPDATE runs only on rows this
 * transaction locked. Readiness (pending, asked to run, no open dependency, past
 * any retry backoff) is plain column tests served by the partial index
 * tasks_ready_idx in claim order, so no dependency is scanned here. The lease
 * expiry comes from the database clock, never the node's. Placement (the node's
 * executors and tags, allowed and forbidden nodes) is tested in the same WHERE, so
 * a node never locks a row it may not run; core/placement.ts states the same rules.
 * The dependency results handed to the executors come back from the same statement
 * (a subquery in RETURNING), which saves a round trip inside the transaction.
 */
import type { NodeCapabilities } from "../../core/placement.js";
import type { ClaimResult, DependencyResult } from "../../core/ports.js";
import type { SqlQueryable } from "../sql.js";
import { appendEvents } from "./append-events.js";
import { prefixed, type TaskRow, toTask } from "./task-row.js";

export async function claimReady(
  tx: SqlQueryable,
  node: NodeCapabilities,
  limit: number,
  leaseMs: number,
): Promise<ClaimResult> {
  const owner = node.nodeId;
  const rows = await tx.query<TaskRow & { lease_token: string; deps: DependencyResult[] }>(
    `UPDATE tasks t
        SET status = 'in_progress', attempt = t.attempt + 1, lease_owner = $1, lease_token = gen_random_uuid(),
            lease_expires_at = now() + $3 * interval '1 millisecond', started_at = now(), not_before = NULL,
            updated_at = now()
       FROM (SELECT id FROM tasks
              WHERE status = 'pending' AND queued AND open_deps = 0 AND (not_before IS NULL OR not_before <= now())
                AND executor = ANY($4::text[])
                AND (placement IS NULL OR (
                      (NOT placement ? 'executors' OR placement->'executors' <@ $5::jsonb)
                  AND (NOT placement ? 'tags' OR placement->'tags' <@ $6::jsonb)
                  AND (NOT placement ? 'allowNodes' OR placement->'allowNodes' ? $1)
                  AND (NOT placement ? 'forbidNodes' OR NOT placement->'forbidNodes' ? $1)))
              ORDER BY priority, created_at, id
              LIMIT $2
              FOR UPDATE SKIP LOCKED) ready
      WHERE t.id = ready.id
      RETURNING ${prefixed("t")}, t.lease_token::text AS lease_token,
                (SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'name', x.name, 'required', d.required,
                                                              'status', x.status, 'result', x.result)
                                           ORDER BY d.position), '[]'::jsonb)
                   FROM task_dependencies d JOIN tasks x ON x.id = d.depends_on_id
                  WHERE d.task_id = t.id) AS deps`,
    [owner, limit, leaseMs, node.executors, JSON.stringify(node.executors), JSON.stringify(node.tags)],
  );
  if (rows.length === 0) return { tasks: [], events: [] };
  const tasks = rows
    .map((row) => ({
      task: toTask(
        row,
        row.deps.map((d) => ({ id: d.id, required: d.required })),
      ),
      leaseToken: row.lease_token,
      dependencies: row.deps,
    }))
    .sort(
      (a, b) =>
        a.task.priority - b.task.priority ||
        a.task.createdAt.getTime() - b.task.createdAt.getTime() ||
        (a.task.id < b.task.id ? -1 : 1),
    );
  const events = await appendEvents(
    tx,
    tasks.map(({ task }) => ({
      treeId: task.treeId,
      taskId: task.id,
      type: "started",
      status: "in_progress",
      progress: task.progress,
      attempt: task.attempt,
      message: null,
      data: { node: owner },
    })),
    new Map(),
    { markStarted: true },
  );
  return { tasks, events };
}
