/**
 * This process as a member of the cluster: it registers itself, heartbeats, and,
 * when its role allows, competes for the leader lease. The leader runs the
 * housekeeping (expired leases back to the queue, long-dead nodes forgotten) and
 * the leader tick (due schedules), each write fenced by its (node, term); losing
 * the lease stops both at once.
 * A single embedded process is simply a cluster of one, and leads it.
 */
import { hostname } from "node:os";
import type { Logger } from "../core/executor.js";
import type { EventBus, LeaderFence, TaskStore } from "../core/ports.js";
import {
  acquireLeadership,
  forgetDeadNodes,
  heartbeat,
  registerNode,
  releaseLeadership,
  removeNode,
} from "../storage/sql/cluster.js";
import type { Sql } from "../storage/sql.js";

export type NodeRole = "auto" | "leader" | "worker" | "observer";

export interface ClusterTimings {
  /** APFLOW_LEADER_LEASE */
  leaderLeaseMs: number;
  /** APFLOW_HEARTBEAT_INTERVAL */
  heartbeatMs: number;
  /** APFLOW_NODE_STALE_THRESHOLD */
  staleMs: number;
  /** APFLOW_NODE_DEAD_THRESHOLD */
  deadMs: number;
  /** How often the leader reclaims expired task leases. */
  reclaimMs: number;
}

export interface MemberOptions extends ClusterTimings {
  sql: Sql;
  store: TaskStore;
  bus: EventBus;
  nodeId: string;
  role: NodeRole;
  tags: string[];
  apiUrl?: string;
  /** Executors this node can run now (reported with each heartbeat). */
  executors(): string[];
  /** Tasks this node runs now. */
  running(): number;
  /** Called after expired leases were requeued (wake the engine). */
  onRequeued(): void;
  /** Leader-only work run every `intervalMs` while this node leads, fenced by its term (the scheduler). */
  leaderTick?: { intervalMs: number; run(fence: LeaderFence): Promise<void> };
  logger: Logger;
}

/** Nodes dead for this long (after the dead threshold) disappear from the registry. */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

export class ClusterMember {
  private fence: LeaderFence | null = null;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private lastLeaseAt = 0;
  private readonly logger: Logger;

  constructor(private readonly options: MemberOptions) {
    this.logger = options.logger.child({ component: "cluster", node: options.nodeId });
  }

  get isLeader(): boolean {
    return this.fence !== null;
  }

  get leaderTerm(): number | null {
    return this.fence?.term ?? null;
  }

  /** Workers and observers never lead; `auto` and `leader` nodes compete. */
  get eligible(): boolean {
    return this.options.role === "auto" || this.options.role === "leader";
  }

  async start(): Promise<void> {
    const o = this.options;
    await this.register();
    this.every(o.heartbeatMs, () => this.beat());
    if (this.eligible) {
      await this.contend();
      // Renew well inside the lease, so a slow round trip does not cost the lease.
      this.every(Math.max(50, Math.floor(o.leaderLeaseMs / 3)), () => this.contend());
      this.every(o.reclaimMs, () => this.housekeep());
      const tick = o.leaderTick;
      if (tick) this.every(tick.intervalMs, () => this.leaderTick(tick.run));
    }
  }

  /** Leaves cleanly: hands leadership over at once and leaves the registry. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    const wasLeader = this.isLeader;
    this.fence = null;
    try {
      if (wasLeader) await releaseLeadership(this.options.sql, this.options.nodeId);
      await removeNode(this.options.sql, this.options.nodeId);
    } catch (error) {
      this.logger.warn("leaving the cluster cleanly failed", { error });
    }
  }

  /** Writes this node's registry row (at start, and again if it was forgotten). */
  private register(): Promise<void> {
    const o = this.options;
    return registerNode(o.sql, {
      id: o.nodeId,
      role: o.role,
      executors: o.executors(),
      tags: o.tags,
      host: hostname(),
      pid: process.pid,
      apiUrl: o.apiUrl ?? null,
    });
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    this.timers.push(
      setInterval(() => {
        if (busy || this.stopped) return;
        busy = true;
        fn().finally(() => {
          busy = false;
        });
      }, ms),
    );
  }

  private async beat(): Promise<void> {
    const o = this.options;
    try {
      const known = await heartbeat(o.sql, o.nodeId, o.running(), o.executors());
      if (!known) {
        // Forgotten while unreachable (or the table was reset): register again.
        await this.register();
      }
    } catch (error) {
      this.logger.warn("heartbeat failed", { error });
    }
  }

  private async contend(): Promise<void> {
    const o = this.options;
    try {
      const lease = await acquireLeadership(o.sql, o.nodeId, o.leaderLeaseMs);
      if (this.stopped) return;
      if (lease) {
        if (!this.fence || this.fence.term !== lease.term) this.logger.info("became leader", { term: lease.term });
        this.fence = { nodeId: o.nodeId, term: lease.term };
        this.lastLeaseAt = Date.now();
      } else if (this.fence) {
        this.logger.warn("lost leadership", { term: this.fence.term });
        this.fence = null;
      }
    } catch (error) {
      // Cannot reach the database: once the lease may have run out, act as a follower.
      if (this.fence && Date.now() - this.lastLeaseAt >= o.leaderLeaseMs) {
        this.logger.warn("leadership lapsed: the lease could not be renewed", { error });
        this.fence = null;
      } else {
        this.logger.warn("renewing leadership failed", { error });
      }
    }
  }

  private async leaderTick(run: (fence: LeaderFence) => Promise<void>): Promise<void> {
    const fence = this.fence;
    if (!fence) return;
    try {
      await run(fence);
    } catch (error) {
      this.logger.error("leader tick failed", { error });
    }
  }

  private async housekeep(): Promise<void> {
    const fence = this.fence;
    if (!fence) return;
    const o = this.options;
    try {
      const events = await o.store.reclaimExpired(1_000, fence);
      if (events.length > 0) {
        this.logger.info("requeued tasks whose lease expired", { count: events.length });
        o.bus.publish(events);
        o.onRequeued();
      }
      await forgetDeadNodes(o.sql, o.deadMs + FORGET_AFTER_MS);
    } catch (error) {
      this.logger.error("housekeeping failed", { error });
    }
  }
}
