/**
 * `system_info_executor`: a safe, read-only view of the node's resources (CPU, memory,
 * disk), the usual first task of monitoring trees. Everything comes from Node's own
 * `os`, `fs.statfs` and `process`, so no command is run (unlike apflow's lscpu/df).
 */
import { statfs } from "node:fs/promises";
import os from "node:os";
import { defineExecutor } from "../core/executor.js";
import type { JsonObject } from "../core/types.js";
import { InputReader } from "./inputs.js";

const RESOURCES = ["cpu", "memory", "disk", "all"] as const;
type Resource = (typeof RESOURCES)[number];

export const systemInfoExecutor = defineExecutor({
  id: "system_info_executor",
  description:
    "Reports the node's system information: always system (OS type), platform, release, arch, hostname, " +
    "nodeVersion, uptimeSeconds (OS) and processUptimeSeconds; plus cpu (count, model, speedMhz, " +
    "loadAverage [1, 5, 15 min]), memory (totalBytes, freeBytes, usedBytes, usedPercent) and disk " +
    "(path, totalBytes, freeBytes, availableBytes, usedBytes, usedPercent of the filesystem holding the " +
    "working directory), as selected by `resource`. Runs no commands.",
  inputSchema: {
    type: "object",
    properties: {
      resource: {
        type: "string",
        enum: [...RESOURCES],
        default: "all",
        description: "Which resource section to include: cpu, memory, disk, or all three.",
      },
    },
    additionalProperties: false,
  },
  async execute(inputs, ctx) {
    const reader = new InputReader("system_info_executor", inputs);
    const resource: Resource = reader.oneOf("resource", RESOURCES) ?? "all";
    reader.finish();
    ctx.signal.throwIfAborted();

    const info: JsonObject = {
      system: os.type(),
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      hostname: os.hostname(),
      nodeVersion: process.version,
      uptimeSeconds: Math.round(os.uptime()),
      processUptimeSeconds: Math.round(process.uptime()),
    };
    if (resource === "cpu" || resource === "all") info.cpu = cpuInfo();
    if (resource === "memory" || resource === "all") info.memory = memoryInfo();
    if (resource === "disk" || resource === "all") info.disk = await diskInfo(process.cwd());
    return info;
  },
});

function cpuInfo(): JsonObject {
  const cpus = os.cpus();
  return {
    // availableParallelism honours CPU affinity/cgroup limits where cpus() lists every core.
    count: os.availableParallelism(),
    model: cpus[0]?.model.trim() ?? null,
    speedMhz: cpus[0]?.speed ?? null,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

function memoryInfo(): JsonObject {
  const totalBytes = os.totalmem();
  const freeBytes = os.freemem();
  const usedBytes = totalBytes - freeBytes;
  return { totalBytes, freeBytes, usedBytes, usedPercent: percent(usedBytes, totalBytes) };
}

async function diskInfo(path: string): Promise<JsonObject> {
  const stats = await statfs(path);
  const totalBytes = stats.blocks * stats.bsize;
  const freeBytes = stats.bfree * stats.bsize;
  const availableBytes = stats.bavail * stats.bsize;
  const usedBytes = totalBytes - freeBytes;
  return {
    path,
    totalBytes,
    freeBytes,
    availableBytes,
    usedBytes,
    // As `df` does: blocks reserved for root count neither as used nor as available.
    usedPercent: percent(usedBytes, usedBytes + availableBytes),
  };
}

function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 1000) / 10;
}
