/**
 * Replay protection of the schedule webhook, shared by every node of a cluster.
 *
 * Why a replay cannot slip through: the signature's hash is the primary key, so of
 * two requests carrying one signature, on any nodes, exactly one INSERT succeeds.
 * Rows are kept for `keepMs` after they were seen (the caller passes twice the
 * timestamp tolerance, covering a sender clock ahead by up to the tolerance); past
 * that, the timestamp check alone refuses the request. Times are the database's, so
 * node clocks do not matter.
 */
import type { SqlQueryable } from "../sql.js";

/** Records a signature hash; false when it was seen before (a replay). */
export async function rememberSignature(tx: SqlQueryable, signatureHash: string, keepMs: number): Promise<boolean> {
  await tx.query("DELETE FROM webhook_replays WHERE seen_at < now() - $1 * interval '1 millisecond'", [keepMs]);
  const inserted = await tx.query(
    "INSERT INTO webhook_replays (signature_hash, seen_at) VALUES ($1, now()) ON CONFLICT DO NOTHING RETURNING 1",
    [signatureHash],
  );
  return inserted.length > 0;
}
