/**
 * Retry timing: exponential backoff with jitter, so a failing peer is not hit by
 * every retry at the same instant.
 */
export interface RetryPolicy {
  /** Delay before the second attempt, before jitter. */
  baseDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

/**
 * Delay after failed attempt number `attempt` (1-based): base * 2^(attempt-1),
 * capped, then "equal jitter" (a random point in the upper half) so delays still
 * grow but spread out.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
