/** Executor allow-lists (fail closed) and custom executor modules loaded from directories. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createApflow } from "../../src/apflow.js";
import { ErrorCode } from "../../src/core/errors.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import { applyAccessRules } from "../../src/executors/access.js";
import { builtinExecutors } from "../../src/executors/builtin.js";
import { loadExecutorDirs } from "../../src/executors/load-dirs.js";
import { MEMORY_DATA_DIR } from "../../src/storage/database.js";

const registry = () => new ExecutorRegistry(builtinExecutors());

describe("executor access rules", () => {
  it("allow nothing but the listed executors and extensions, saying how to enable the rest", () => {
    const r = registry();
    applyAccessRules(r, { executors: ["rest_executor"], extensions: ["core"] });
    expect(r.availability("rest_executor")).toBe("available");
    expect(r.availability("aggregate_results_executor")).toBe("available");
    expect(r.availability("command_executor")).toBe("forbidden");
    const command = r.list().find((e) => e.id === "command_executor")!;
    expect(command.unavailableReason).toMatch(/APFLOW_EXECUTORS.*"stdio" to APFLOW_EXTENSIONS/);
  });

  it("treat an empty allow-list as allowing nothing", () => {
    const r = registry();
    applyAccessRules(r, { executors: [] });
    expect(r.list().every((e) => !e.available)).toBe(true);
  });

  it("stop start-up on an unknown name, listing the known ones", () => {
    expect(() => applyAccessRules(registry(), { executors: ["rest_executr"], extensions: ["htttp"] })).toThrowError(
      expect.objectContaining({
        code: ErrorCode.CONFIG_ERROR,
        message: expect.stringMatching(
          /"rest_executr" is not an executor; known: .*rest_executor[\s\S]*"htttp" is not an extension; known: .*http/,
        ),
      }),
    );
  });

  it("reject a tree using a blocked executor at creation", async () => {
    const apflow = await createApflow({ dataDir: MEMORY_DATA_DIR, logLevel: "silent", allowedExtensions: ["core"] });
    try {
      await expect(
        apflow.createTree([{ name: "x", executor: "rest_executor", inputs: { url: "https://a.test" } }]),
      ).rejects.toMatchObject({
        code: ErrorCode.VALIDATION_ERROR,
        problems: [expect.objectContaining({ code: ErrorCode.EXECUTOR_FORBIDDEN })],
      });
    } finally {
      await apflow.close();
    }
  });
});

describe("executor directories", () => {
  it("load executors default-exported by modules and run them", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "apflow-executors-"));
    try {
      await writeFile(
        path.join(dir, "shout.mjs"),
        `export default [{ id: "shout", description: "upper-cases", inputSchema: { type: "object" },
           async execute(inputs) { return { text: String(inputs.text).toUpperCase() }; } }];`,
      );
      const apflow = await createApflow({ dataDir: MEMORY_DATA_DIR, logLevel: "silent", executorDirs: [dir] });
      try {
        const root = await apflow.createTree([{ name: "s", executor: "shout", inputs: { text: "hi" } }], {
          execute: true,
        });
        const [task] = await apflow.waitForTree(root.id);
        expect(task!.result).toEqual({ text: "HI" });
      } finally {
        await apflow.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stop start-up on a module that is not an executor, naming the file", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "apflow-executors-"));
    try {
      await writeFile(path.join(dir, "broken.mjs"), "export default { id: 42 };");
      await expect(loadExecutorDirs([dir])).rejects.toMatchObject({
        code: ErrorCode.CONFIG_ERROR,
        message: expect.stringContaining("broken.mjs"),
      });
      await expect(loadExecutorDirs([path.join(dir, "missing")])).rejects.toMatchObject({
        code: ErrorCode.CONFIG_ERROR,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
