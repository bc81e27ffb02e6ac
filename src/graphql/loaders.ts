/**
 * DataLoaders for what plugin-prisma cannot batch by itself: figures computed over
 * a task's whole subtree. One recursive query serves every task of a response.
 * They batch but do not cache: a subscription keeps one context for its whole
 * life, and each of its events must see the figures as they are then.
 */
import DataLoader from "dataloader";
import type { PrismaClient } from "../generated/prisma/client.js";

export interface Rollup {
  total: number;
  pending: number;
  inProgress: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** 0..1: terminal tasks count as done, others by their own progress. */
  progress: number;
}

export interface Loaders {
  rollup: DataLoader<string, Rollup>;
}

export function createLoaders(prisma: PrismaClient): Loaders {
  return {
    rollup: new DataLoader(
      async (ids) => {
        const rows = await prisma.$queryRawUnsafe<
          { root_id: string; status: string; n: number | bigint; progress: number | null }[]
        >(
          `WITH RECURSIVE sub(root_id, id) AS (
           SELECT id, id FROM tasks WHERE id = ANY($1::text[])
           UNION ALL
           SELECT sub.root_id, t.id FROM tasks t JOIN sub ON t.parent_id = sub.id
         )
         SELECT sub.root_id, t.status, count(*) AS n,
                sum(CASE WHEN t.status IN ('completed', 'failed', 'cancelled') THEN 1 ELSE t.progress END) AS progress
           FROM sub JOIN tasks t ON t.id = sub.id
          GROUP BY sub.root_id, t.status`,
          [...ids],
        );
        const byId = new Map<string, Rollup & { done: number }>();
        for (const id of ids) {
          byId.set(id, {
            total: 0,
            pending: 0,
            inProgress: 0,
            completed: 0,
            failed: 0,
            cancelled: 0,
            progress: 0,
            done: 0,
          });
        }
        for (const row of rows) {
          const r = byId.get(row.root_id)!;
          const n = Number(row.n);
          r.total += n;
          r.done += Number(row.progress ?? 0);
          const key = row.status === "in_progress" ? "inProgress" : (row.status as keyof Rollup);
          (r[key] as number) += n;
        }
        return ids.map((id) => {
          const { done, ...r } = byId.get(id)!;
          return { ...r, progress: r.total === 0 ? 0 : done / r.total };
        });
      },
      { cache: false },
    ),
  };
}
