import { describe, expect, it } from "vitest";
import { SingleFlight } from "../../src/core/single-flight.js";

describe("SingleFlight", () => {
  it("shares one read among identical concurrent callers, and reads again once it settled", async () => {
    const flight = new SingleFlight<number>();
    let reads = 0;
    let release!: (n: number) => void;
    const read = () => {
      reads++;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const first = flight.run("tree-1", read);
    const second = flight.run("tree-1", read);
    const other = flight.run("tree-2", () => Promise.resolve(7));
    expect(reads).toBe(1);
    release(42);
    expect(await Promise.all([first, second, other])).toEqual([42, 42, 7]);
    const third = flight.run("tree-1", read);
    expect(reads).toBe(2);
    release(43);
    expect(await third).toBe(43);
  });

  it("hands a failure to every waiting caller and forgets it", async () => {
    const flight = new SingleFlight<number>();
    let fail!: (error: Error) => void;
    const failing = () =>
      new Promise<number>((_, reject) => {
        fail = reject;
      });
    const a = flight.run("k", failing);
    const b = flight.run("k", failing);
    fail(new Error("connection lost"));
    await expect(a).rejects.toThrow("connection lost");
    await expect(b).rejects.toThrow("connection lost");
    expect(await flight.run("k", () => Promise.resolve(1))).toBe(1);
  });
});
