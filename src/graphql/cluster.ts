/** The cluster as operators see it: nodes, leader, queue depth; and on Task, lease and placement. */

import type { Placement } from "../core/types.js";
import { waitingReason } from "../core/waiting-reason.js";
import { currentLeader, listNodes, type NodeRow } from "../storage/sql/cluster.js";
import { builder } from "./builder.js";
import type { Context } from "./context.js";
import { TaskRef } from "./task.js";

const NodeStatusEnum = builder.enumType("NodeStatus", {
  description:
    "From the heartbeat's age: stale after APFLOW_NODE_STALE_THRESHOLD, dead after APFLOW_NODE_DEAD_THRESHOLD.",
  values: { HEALTHY: { value: "healthy" }, STALE: { value: "stale" }, DEAD: { value: "dead" } } as const,
});

type NodeShape = NodeRow & { isLeader: boolean };

const ClusterNodeRef = builder.objectRef<NodeShape>("ClusterNode").implement({
  description: "A process serving this database.",
  fields: (t) => ({
    id: t.exposeID("id"),
    role: t.exposeString("role", { description: "auto, leader, worker or observer." }),
    status: t.field({ type: NodeStatusEnum, resolve: (n) => n.status }),
    isLeader: t.exposeBoolean("isLeader"),
    heartbeatAt: t.expose("heartbeatAt", { type: "DateTime" }),
    startedAt: t.expose("startedAt", { type: "DateTime" }),
    executors: t.exposeStringList("executors", { description: "Executors it can run." }),
    tags: t.exposeStringList("tags"),
    running: t.exposeInt("running", { description: "Tasks it was running at its last heartbeat." }),
    host: t.exposeString("host"),
    pid: t.exposeInt("pid"),
    apiUrl: t.exposeString("apiUrl", { nullable: true }),
  }),
});

interface ClusterShape {
  leaderId: string | null;
  leaderTerm: number | null;
  nodes: NodeShape[];
}

const QueueDepthRef = builder
  .objectRef<{
    pending: number;
    ready: number;
    inProgress: number;
    completed: number;
    failed: number;
    cancelled: number;
  }>("QueueDepth")
  .implement({
    fields: (t) => ({
      pending: t.exposeInt("pending"),
      ready: t.exposeInt("ready", { description: "Pending tasks that could be claimed now." }),
      inProgress: t.exposeInt("inProgress"),
      completed: t.exposeInt("completed"),
      failed: t.exposeInt("failed"),
      cancelled: t.exposeInt("cancelled"),
    }),
  });

const ClusterRef = builder.objectRef<ClusterShape>("Cluster").implement({
  fields: (t) => ({
    leaderId: t.exposeID("leaderId", { nullable: true, description: "Null while no node holds the leader lease." }),
    leaderTerm: t.exposeInt("leaderTerm", { nullable: true, description: "Grows with every change of leader." }),
    healthyNodes: t.int({ resolve: (c) => c.nodes.filter((n) => n.status === "healthy").length }),
    staleNodes: t.int({ resolve: (c) => c.nodes.filter((n) => n.status === "stale").length }),
    deadNodes: t.int({ resolve: (c) => c.nodes.filter((n) => n.status === "dead").length }),
    queue: t.field({
      type: QueueDepthRef,
      description: "Tasks by status.",
      resolve: async (_c, _args, ctx) => {
        const rows = await ctx.apflow.database.sql.query<{ status: string; n: number; ready: number }>(
          `SELECT status, count(*)::int AS n,
                  count(*) FILTER (WHERE status = 'pending' AND queued AND open_deps = 0
                                     AND (not_before IS NULL OR not_before <= now()))::int AS ready
             FROM tasks GROUP BY status`,
        );
        const by = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
        return {
          pending: by("pending"),
          ready: Number(rows.find((r) => r.status === "pending")?.ready ?? 0),
          inProgress: by("in_progress"),
          completed: by("completed"),
          failed: by("failed"),
          cancelled: by("cancelled"),
        };
      },
    }),
  }),
});

/**
 * The registry once per operation (several fields need it); a subscription's
 * context lives long, so the value is re-read when older than a second.
 */
async function clusterState(ctx: Context): Promise<ClusterShape> {
  const fresh = typeof ctx.cache.clusterAt === "number" && Date.now() - ctx.cache.clusterAt < 1_000;
  if (!fresh) {
    ctx.cache.clusterAt = Date.now();
    ctx.cache.cluster = undefined;
  }
  ctx.cache.cluster ??= (async () => {
    const { sql } = ctx.apflow.database;
    const { staleMs, deadMs } = ctx.apflow.config;
    const [nodes, leader] = await Promise.all([listNodes(sql, staleMs, deadMs), currentLeader(sql)]);
    return {
      leaderId: leader?.nodeId ?? null,
      leaderTerm: leader?.term ?? null,
      nodes: nodes.map((n) => ({ ...n, isLeader: n.id === leader?.nodeId })),
    };
  })();
  return ctx.cache.cluster as Promise<ClusterShape>;
}

builder.queryFields((t) => ({
  clusterNodes: t.field({
    type: [ClusterNodeRef],
    description: "Every registered node, oldest first.",
    resolve: async (_root, _args, ctx) => (await clusterState(ctx)).nodes,
  }),
  cluster: t.field({ type: ClusterRef, resolve: (_root, _args, ctx) => clusterState(ctx) }),
}));

const PlacementRef = builder.objectRef<Placement>("TaskPlacement").implement({
  description: "Which nodes may run a task (all conditions must hold).",
  fields: (t) => ({
    executors: t.exposeStringList("executors", { nullable: true, description: "Executors the node must have." }),
    tags: t.exposeStringList("tags", { nullable: true, description: "Tags the node must have." }),
    allowNodes: t.exposeStringList("allowNodes", { nullable: true }),
    forbidNodes: t.exposeStringList("forbidNodes", { nullable: true }),
  }),
});

builder.prismaObjectFields(TaskRef, (t) => ({
  placement: t.field({
    type: PlacementRef,
    nullable: true,
    select: { placement: true },
    resolve: (task) => (task.placement as Placement | null) ?? null,
  }),
  waitingReason: t.string({
    nullable: true,
    description: "Why a pending task is not running yet (null unless pending).",
    select: { status: true, queued: true, openDeps: true, notBefore: true, executor: true, placement: true },
    resolve: async (task, _args, ctx) => {
      if (task.status !== "pending") return null;
      const nodes = (await clusterState(ctx)).nodes
        .filter((n) => n.status === "healthy" && n.role !== "observer")
        .map((n) => ({ nodeId: n.id, executors: n.executors, tags: n.tags }));
      return waitingReason({ ...task, placement: (task.placement as Placement | null) ?? null }, nodes, new Date());
    },
  }),
}));
