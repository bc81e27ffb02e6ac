/**
 * Inserts a whole task tree (tasks, dependency rows, tree row, "created" events) in
 * a few set-based statements, whatever its size. The caller's transaction makes it
 * all-or-nothing.
 */
import { ApflowError, ErrorCode } from "../../core/errors.js";
import type { TreePlan } from "../../core/ports.js";
import type { TaskEvent } from "../../core/types.js";
import type { SqlQueryable } from "../sql.js";
import { appendEvents } from "./append-events.js";

export async function insertTree(tx: SqlQueryable, plan: TreePlan, queue: boolean): Promise<TaskEvent[]> {
  const { tasks } = plan;
  try {
    await tx.query("INSERT INTO task_trees (id, event_seq, open_tasks) VALUES ($1, 0, 0)", [plan.rootId]);
    await tx.query(
      `INSERT INTO tasks (id, tree_id, parent_id, depth, position, name, executor, inputs, params, priority,
                          max_attempts, timeout_ms, idempotency_key, placement, origin_type, original_task_id,
                          user_id, open_deps, dependency_list, queued, created_at, updated_at)
       SELECT v.*, $18::boolean, now(), now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[],
                     $8::jsonb[], $9::jsonb[], $10::int[], $11::int[], $12::int[], $13::text[], $14::jsonb[],
                     $15::text[], $16::text[], $17::text[], $19::int[], $20::jsonb[])
           AS v(id, tree_id, parent_id, depth, position, name, executor, inputs, params, priority, max_attempts,
                timeout_ms, idempotency_key, placement, origin_type, original_task_id, user_id, open_deps,
                dependency_list)`,
      [
        tasks.map((t) => t.id),
        tasks.map((t) => t.treeId),
        tasks.map((t) => t.parentId),
        tasks.map((t) => t.depth),
        tasks.map((t) => t.position),
        tasks.map((t) => t.name),
        tasks.map((t) => t.executor),
        tasks.map((t) => JSON.stringify(t.inputs)),
        tasks.map((t) => JSON.stringify(t.params)),
        tasks.map((t) => t.priority),
        tasks.map((t) => t.maxAttempts),
        tasks.map((t) => t.timeoutMs),
        tasks.map((t) => t.idempotencyKey),
        tasks.map((t) => (t.placement === null ? null : JSON.stringify(t.placement))),
        tasks.map((t) => t.originType),
        tasks.map((t) => t.originalTaskId),
        tasks.map((t) => t.userId),
        queue,
        tasks.map((t) => t.dependencies.length),
        tasks.map((t) => JSON.stringify(t.dependencies.map(({ id, required }) => ({ id, required })))),
      ],
    );
    const edges = tasks.flatMap((t) => t.dependencies.map((d, position) => ({ task: t.id, ...d, position })));
    if (edges.length > 0) {
      await tx.query(
        `INSERT INTO task_dependencies (task_id, depends_on_id, required, position)
         SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::int[])`,
        [edges.map((e) => e.task), edges.map((e) => e.id), edges.map((e) => e.required), edges.map((e) => e.position)],
      );
    }
  } catch (error) {
    throw uniqueViolation(error) ?? error;
  }
  return appendEvents(
    tx,
    tasks.map((t) => ({
      treeId: plan.rootId,
      taskId: t.id,
      type: "created",
      status: "pending",
      progress: 0,
      attempt: 0,
      message: null,
      data: { queued: queue },
    })),
    new Map([[plan.rootId, tasks.length]]),
  );
}

/** A typed error for an id or idempotency key taken by a concurrent request. */
function uniqueViolation(error: unknown): ApflowError | null {
  const e = error as { code?: string; constraint?: string; message?: string };
  if (e?.code !== "23505") return null;
  const what = `${e.constraint ?? ""} ${e.message ?? ""}`;
  if (what.includes("idempotency")) {
    return new ApflowError(
      ErrorCode.CONFLICT,
      "an idempotency key of this tree is already used by another task",
      {},
      {
        cause: error,
      },
    );
  }
  return new ApflowError(
    ErrorCode.DUPLICATE_ID,
    "a task id of this tree already exists; omit ids to get new ones",
    {},
    {
      cause: error,
    },
  );
}
