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
 * (a subquery in RETURNING).
 */
import type { NodeCapabilities } from "../../core/placement.js";
import type { ClaimResult, DependencyResult } from "../../core/ports.js";
import type { SqlQueryable } from "../sql.js";
import { eventsTail, NO_DELTA, SEND_NOTIFY, STORED_COLUMNS, type StoredRow, storedEvent } from "./append-events.js";
import { prefixed, type TaskRow, toTask } from "./task-row.js";

/**
 * One statement, run on its own (autocommitted): it claims, stores the `started`
 * events and sends the NOTIFY, so a claim costs one round trip. Task rows are
 * locked with SKIP LOCKED (never waited for), tree rows in id order (eventsTail).
 * The join with `stored` keeps every claimed task: its tree row exists while the
 * task does (foreign key). The picked rows are updated through `id = ANY(ARRAY(...))`,
 * primary-key look-ups: joined as a subquery instead, the planner hashed the whole
 * table to update 100 rows (1.4 ms of a 6 ms claim at 10,000 tasks, growing with it).
 */
export async function claimReady(
  sql: SqlQueryable,
  node: NodeCapabilities,
  limit: number,
  leaseMs: number,
): Promise<ClaimResult> {
  const owner = node.nodeId;
  // What each claimed task's event says, stored as given and returned as the same object.
  const started = { type: "started", status: "in_progress", message: null, data: { node: owner } } as const;
  // Each claimed row comes back as one JSON value rather than ~50 typed columns:
  // decoding them field by field was the larger part of a claim's cost in the node
  // (and on PGlite, of the whole claim).
  const rows = await sql.query<StoredRow & { task: TaskRow & { lease_token: string; deps: DependencyResult[] } }>(
    `WITH claimed AS (
       UPDATE tasks t
          SET status = 'in_progress', attempt = t.attempt + 1, lease_owner = $1, lease_token = gen_random_uuid(),
              lease_expires_at = now() + $3 * interval '1 millisecond', started_at = now(), not_before = NULL,
              updated_at = now()
        WHERE t.id = ANY(ARRAY(
               SELECT id FROM tasks
                WHERE status = 'pending' AND queued AND open_deps = 0 AND (not_before IS NULL OR not_before <= now())
                  AND executor = ANY($4::text[]) AND ($7::text[] IS NULL OR tree_id = ANY($7::text[]))
                  AND (placement IS NULL OR (
                        (NOT placement ? 'executors' OR placement->'executors' <@ $5::jsonb)
                    AND (NOT placement ? 'tags' OR placement->'tags' <@ $6::jsonb)
                    AND (NOT placement ? 'allowNodes' OR placement->'allowNodes' ? $1)
                    AND (NOT placement ? 'forbidNodes' OR NOT placement->'forbidNodes' ? $1)))
                ORDER BY priority, created_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED))
        RETURNING ${prefixed("t")}, t.lease_token::text AS lease_token,
                  (SELECT coalesce(jsonb_agg(jsonb_build_object('id', x.id, 'name', x.name, 'required', d.required,
                                                                'status', x.status, 'result', x.result)
                                             ORDER BY d.position), '[]'::jsonb)
                     FROM task_dependencies d JOIN tasks x ON x.id = d.depends_on_id
                    WHERE d.task_id = t.id) AS deps),
     ev AS (
       SELECT tree_id, id AS task_id, $8::text AS type, $9::text AS status, progress, attempt,
              NULL::text AS message, $10::jsonb AS data,
              row_number() OVER (ORDER BY priority, created_at, id) AS ord
         FROM claimed),
     ${NO_DELTA},
     ${eventsTail({ markStarted: true })}
     SELECT row_to_json(c) AS task, ${STORED_COLUMNS}
       FROM claimed c JOIN stored s ON s.task_id = c.id
      WHERE ${SEND_NOTIFY}
      ORDER BY s.ord`,
    [
      owner,
      limit,
      leaseMs,
      node.executors,
      JSON.stringify(node.executors),
      JSON.stringify(node.tags),
      node.trees ?? null,
      started.type,
      started.status,
      JSON.stringify(started.data),
    ],
  );
  const tasks = [];
  const events = [];
  for (const row of rows) {
    const { lease_token: leaseToken, deps } = row.task;
    const task = toTask(
      row.task,
      deps.map((d) => ({ id: d.id, required: d.required })),
    );
    tasks.push({ task, leaseToken, dependencies: deps });
    events.push(
      storedEvent(
        { ...started, treeId: task.treeId, taskId: task.id, progress: task.progress, attempt: task.attempt },
        row,
      ),
    );
  }
  return { tasks, events };
}
