/**
 * The cluster's tables: the node registry and the leader lease.
 *
 * Leadership is a lease row (id = 1) taken with one INSERT ... ON CONFLICT DO
 * UPDATE ... WHERE: the row's lock serialises contenders, and the WHERE lets a node
 * take it only when it already holds it or the lease expired, by the database's
 * clock. `term` grows with every change of leader; housekeeping writes are fenced by
 * (node, term) with `leaderFence`, which holds a share lock on the row so a new
 * leader cannot take over in the middle of them.
 */
import type { SqlQueryable } from "../sql.js";

export interface NodeRow {
  id: string;
  role: string;
  executors: string[];
  tags: string[];
  host: string;
  pid: number;
  apiUrl: string | null;
  running: number;
  startedAt: Date;
  heartbeatAt: Date;
  status: "healthy" | "stale" | "dead";
}

export interface LeaderRow {
  nodeId: string;
  term: number;
  leaseExpiresAt: Date;
}

export async function registerNode(
  tx: SqlQueryable,
  node: Omit<NodeRow, "startedAt" | "heartbeatAt" | "status" | "running">,
): Promise<void> {
  await tx.query(
    `INSERT INTO cluster_nodes (id, role, executors, tags, host, pid, api_url, running, started_at, heartbeat_at)
     VALUES ($1, $2, $3::text[], $4::text[], $5, $6, $7, 0, now(), now())
     ON CONFLICT (id) DO UPDATE SET role = $2, executors = $3::text[], tags = $4::text[], host = $5, pid = $6,
       api_url = $7, running = 0, started_at = now(), heartbeat_at = now()`,
    [node.id, node.role, node.executors, node.tags, node.host, node.pid, node.apiUrl],
  );
}

/** The one write per heartbeat: liveness, load, and what the node can run now. */
export async function heartbeat(
  tx: SqlQueryable,
  nodeId: string,
  running: number,
  executors: string[],
): Promise<boolean> {
  const rows = await tx.query(
    "UPDATE cluster_nodes SET heartbeat_at = now(), running = $2, executors = $3::text[] WHERE id = $1 RETURNING id",
    [nodeId, running, executors],
  );
  return rows.length > 0;
}

export async function removeNode(tx: SqlQueryable, nodeId: string): Promise<void> {
  await tx.query("DELETE FROM cluster_nodes WHERE id = $1", [nodeId]);
}

/** Every registered node, with its status derived from the heartbeat's age. */
export async function listNodes(tx: SqlQueryable, staleMs: number, deadMs: number): Promise<NodeRow[]> {
  const rows = await tx.query<Record<string, unknown>>(
    `SELECT id, role, executors, tags, host, pid, api_url, running, started_at, heartbeat_at,
            CASE WHEN heartbeat_at < now() - $2 * interval '1 millisecond' THEN 'dead'
                 WHEN heartbeat_at < now() - $1 * interval '1 millisecond' THEN 'stale'
                 ELSE 'healthy' END AS status
       FROM cluster_nodes ORDER BY started_at, id`,
    [staleMs, deadMs],
  );
  return rows.map((r) => ({
    id: r.id as string,
    role: r.role as string,
    executors: (r.executors as string[]) ?? [],
    tags: (r.tags as string[]) ?? [],
    host: r.host as string,
    pid: Number(r.pid),
    apiUrl: (r.api_url as string | null) ?? null,
    running: Number(r.running),
    startedAt: r.started_at as Date,
    heartbeatAt: r.heartbeat_at as Date,
    status: r.status as NodeRow["status"],
  }));
}

/** Leader housekeeping: forget nodes dead for longer than `forgetMs`. */
export async function forgetDeadNodes(tx: SqlQueryable, forgetMs: number): Promise<number> {
  const rows = await tx.query(
    "DELETE FROM cluster_nodes WHERE heartbeat_at < now() - $1 * interval '1 millisecond' RETURNING id",
    [forgetMs],
  );
  return rows.length;
}

/** Takes or renews the leader lease; returns the lease when this node holds it. */
export async function acquireLeadership(tx: SqlQueryable, nodeId: string, leaseMs: number): Promise<LeaderRow | null> {
  const [row] = await tx.query<{ node_id: string; term: number; lease_expires_at: Date }>(
    `INSERT INTO cluster_leader (id, node_id, term, lease_expires_at, acquired_at)
     VALUES (1, $1, 1, now() + $2 * interval '1 millisecond', now())
     ON CONFLICT (id) DO UPDATE
        SET term = CASE WHEN cluster_leader.node_id = EXCLUDED.node_id THEN cluster_leader.term ELSE cluster_leader.term + 1 END,
            acquired_at = CASE WHEN cluster_leader.node_id = EXCLUDED.node_id THEN cluster_leader.acquired_at ELSE now() END,
            node_id = EXCLUDED.node_id,
            lease_expires_at = EXCLUDED.lease_expires_at
      WHERE cluster_leader.node_id = EXCLUDED.node_id OR cluster_leader.lease_expires_at < now()
     RETURNING node_id, term, lease_expires_at`,
    [nodeId, leaseMs],
  );
  return row ? { nodeId: row.node_id, term: Number(row.term), leaseExpiresAt: row.lease_expires_at } : null;
}

/** Gives the lease up at once (clean shutdown), so another node takes over without waiting. */
export async function releaseLeadership(tx: SqlQueryable, nodeId: string): Promise<void> {
  await tx.query("UPDATE cluster_leader SET lease_expires_at = now() - interval '1 millisecond' WHERE node_id = $1", [
    nodeId,
  ]);
}

export async function currentLeader(tx: SqlQueryable): Promise<LeaderRow | null> {
  const [row] = await tx.query<{ node_id: string; term: number; lease_expires_at: Date }>(
    "SELECT node_id, term, lease_expires_at FROM cluster_leader WHERE id = 1 AND lease_expires_at > now()",
  );
  return row ? { nodeId: row.node_id, term: Number(row.term), leaseExpiresAt: row.lease_expires_at } : null;
}

/**
 * Inside a housekeeping transaction: true when (nodeId, term) still holds a live
 * lease. FOR SHARE keeps a contender's takeover waiting until this transaction ends.
 */
export async function leaderFence(tx: SqlQueryable, nodeId: string, term: number): Promise<boolean> {
  const rows = await tx.query(
    "SELECT 1 FROM cluster_leader WHERE id = 1 AND node_id = $1 AND term = $2 AND lease_expires_at > now() FOR SHARE",
    [nodeId, term],
  );
  return rows.length > 0;
}
