/** The webhook's rate limit (GCRA), on times given by hand. */
import { describe, expect, it } from "vitest";
import { takeRate } from "../../src/core/rate-limit.js";

/** A key's state kept between calls, as the database row keeps it. */
function limiter(perMinute: number) {
  const state = new Map<string, number>();
  return (key: string, now: number) => {
    const decision = takeRate(state.get(key) ?? 0, now, perMinute);
    state.set(key, decision.tatMs);
    return decision.waitMs;
  };
}

describe("takeRate", () => {
  it("allows perMinute requests at once, then one more every 60/perMinute seconds, per key", () => {
    const take = limiter(3);
    expect([take("a", 0), take("a", 0), take("a", 0)]).toEqual([0, 0, 0]);
    expect(take("a", 0)).toBe(20_000);
    // Another key has its own allowance.
    expect(take("b", 0)).toBe(0);
    expect(take("a", 19_999)).toBe(1);
    expect(take("a", 20_000)).toBe(0);
    expect(take("a", 20_000)).toBe(20_000);
    // An idle key regains its whole allowance, not more.
    const later = 10 * 60_000;
    expect([take("a", later), take("a", later), take("a", later), take("a", later)]).toEqual([0, 0, 0, 20_000]);
  });

  it("leaves the state unchanged when it refuses, so refused requests cost nothing", () => {
    const allowed = takeRate(0, 1_000, 1);
    expect(allowed).toEqual({ waitMs: 0, tatMs: 61_000 });
    expect(takeRate(allowed.tatMs, 1_000, 1)).toEqual({ waitMs: 60_000, tatMs: 61_000 });
    expect(takeRate(allowed.tatMs, 61_000, 1)).toEqual({ waitMs: 0, tatMs: 121_000 });
  });
});
