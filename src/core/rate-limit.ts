/**
 * A rate limit as GCRA (the generic cell rate algorithm): a key may spend
 * `perMinute` requests at once, and regains one every 60/perMinute seconds. Its
 * whole state is one number per key, the theoretical arrival time (`tat`): when
 * the next request would be due if requests came at the steady rate. That makes
 * it easy to keep in a database row, shared by every node.
 */

const WINDOW_MS = 60_000;

export interface RateDecision {
  /** 0 when the request is allowed, otherwise the milliseconds until one is. */
  waitMs: number;
  /** The key's state after this request (unchanged when refused). */
  tatMs: number;
}

/**
 * @param tatMs the key's state; any time not after `nowMs` (0 for a new key) means
 *   a full allowance
 */
export function takeRate(tatMs: number, nowMs: number, perMinute: number): RateDecision {
  const next = Math.max(tatMs, nowMs) + WINDOW_MS / perMinute;
  if (next - nowMs <= WINDOW_MS) return { waitMs: 0, tatMs: next };
  return { waitMs: Math.ceil(next - nowMs - WINDOW_MS), tatMs };
}
