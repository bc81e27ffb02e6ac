/**
 * The schedule webhook's rate limit, shared by every node of a cluster: the state
 * of core/rate-limit.ts in one row per schedule, read and written under a row lock
 * so concurrent requests on any nodes take their turns. Times are the database's,
 * so node clocks do not matter.
 */
import { takeRate } from "../../core/rate-limit.js";
import type { SqlQueryable } from "../sql.js";

/** Takes one request for `key`: 0 when allowed, otherwise the milliseconds until one is. */
export async function takeWebhookRate(tx: SqlQueryable, key: string, perMinute: number): Promise<number> {
  // A row whose time has passed is a full allowance, the same as no row.
  await tx.query("DELETE FROM webhook_rates WHERE tat_ms <= extract(epoch FROM now()) * 1000");
  await tx.query("INSERT INTO webhook_rates (key, tat_ms) VALUES ($1, 0) ON CONFLICT DO NOTHING", [key]);
  const [row] = await tx.query<{ tat_ms: number; now_ms: number }>(
    "SELECT tat_ms, extract(epoch FROM now())::float8 * 1000 AS now_ms FROM webhook_rates WHERE key = $1 FOR UPDATE",
    [key],
  );
  const decision = takeRate(Number(row!.tat_ms), Number(row!.now_ms), perMinute);
  if (decision.waitMs === 0) {
    await tx.query("UPDATE webhook_rates SET tat_ms = $2 WHERE key = $1", [key, decision.tatMs]);
  }
  return decision.waitMs;
}
