/** The webhook's token buckets, on a clock moved by hand. */
import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../src/server/rate-limit.js";

describe("RateLimiter", () => {
  it("allows perMinute requests at once, then one more every 60/perMinute seconds, per key", () => {
    let now = 0;
    const limiter = new RateLimiter(3, () => now);
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBe(20_000);
    // Another key has its own bucket.
    expect(limiter.take("b")).toBe(0);
    now = 19_999;
    expect(limiter.take("a")).toBe(1);
    now = 20_000;
    expect(limiter.take("a")).toBe(0);
    expect(limiter.take("a")).toBe(20_000);
    // An idle key refills to its capacity, not beyond.
    now = 10 * 60_000;
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0, 20_000]);
  });
});
