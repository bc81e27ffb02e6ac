/**
 * Loaders shared by every request and subscription of the server. When one status
 * change is delivered to 1,000 dashboards, their 1,000 `task` look-ups in the same
 * tick become one query, as do a tree query's look-ups of the tasks its
 * dependencies name; the cache is dropped after each batch, so nobody reads stale
 * data.
 */
import DataLoader from "dataloader";
import type { PrismaClient, Task as TaskRow } from "../generated/prisma/client.js";

export interface SharedLoaders {
  task: DataLoader<string, TaskRow | null>;
}

export function createSharedLoaders(prisma: PrismaClient): SharedLoaders {
  const task: DataLoader<string, TaskRow | null> = new DataLoader(async (ids) => {
    task.clearAll();
    const rows = await prisma.task.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  });
  return { task };
}
