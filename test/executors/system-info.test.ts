import os from "node:os";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/core/types.js";
import { systemInfoExecutor } from "../../src/executors/system-info.js";
import { caughtApflowError, fakeContext } from "./context.js";

const info = async (inputs: JsonObject = {}) => (await systemInfoExecutor.execute(inputs, fakeContext())) as JsonObject;

describe("system_info_executor", () => {
  it("reports everything by default", async () => {
    const result = await info();
    expect(result).toMatchObject({
      system: os.type(),
      platform: process.platform,
      arch: process.arch,
      nodeVersion: process.version,
    });
    expect(result.uptimeSeconds).toBeGreaterThan(0);
    const cpu = result.cpu as JsonObject;
    expect(cpu.count).toBeGreaterThan(0);
    expect(typeof cpu.model).toBe("string");
    expect(cpu.loadAverage).toHaveLength(3);
    const memory = result.memory as JsonObject;
    expect(memory.totalBytes).toBe(os.totalmem());
    expect(memory.freeBytes).toBeGreaterThan(0);
    const disk = result.disk as JsonObject;
    expect(disk.path).toBe(process.cwd());
    expect(disk.totalBytes).toBeGreaterThan(0);
    expect(disk.usedBytes as number).toBeLessThanOrEqual(disk.totalBytes as number);
    expect(disk.usedPercent).toBeGreaterThanOrEqual(0);
    expect(disk.usedPercent).toBeLessThanOrEqual(100);
  });

  it.each(["cpu", "memory", "disk"])("reports only %s when asked", async (resource) => {
    const result = await info({ resource });
    const sections = ["cpu", "memory", "disk"].filter((key) => key in result);
    expect(sections).toEqual([resource]);
    expect(result.nodeVersion).toBe(process.version);
  });

  it("rejects an unknown resource", async () => {
    const error = await caughtApflowError(() => info({ resource: "gpu" }));
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems[0]?.path).toBe("inputs.resource");
  });
});
