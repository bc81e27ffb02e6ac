// Task ids are UUIDv7, strictly increasing within a process (claim order relies on
// it for siblings created together), and random past their time and counter bits.
import { describe, expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newId", () => {
  it("makes distinct, strictly increasing UUIDv7s, also across many in one millisecond", () => {
    // 10,000 ids draw on the random pool many times over.
    const ids = Array.from({ length: 10_000 }, () => newId());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id, i) => i === 0 || ids[i - 1]! < id)).toBe(true);
  });

  it("carries the current time in its first 48 bits", () => {
    const before = Date.now();
    const id = newId();
    const ms = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    // More than 4,096 ids in one millisecond borrow the next one: the burst above may
    // have left the clock a few milliseconds ahead.
    expect(ms).toBeLessThanOrEqual(Date.now() + 5);
  });

  it("keeps the random tail random: no two ids share their last 62 bits", () => {
    const tails = Array.from({ length: 2_000 }, () => newId().slice(20));
    expect(new Set(tails).size).toBe(tails.length);
  });
});
