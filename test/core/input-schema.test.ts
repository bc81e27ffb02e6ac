/** Executor input schemas are enforced at creation and again after dependency results are merged. */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { ApflowError, ErrorCode } from "../../src/core/errors.js";
import { defineExecutor } from "../../src/core/executor.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import { MemoryTaskStore } from "../../src/storage/memory-store.js";
import { type Harness, startHarness } from "../support/harness.js";

const fetchLike = defineExecutor({
  id: "fetch_like",
  description: "needs a url",
  inputSchema: {
    type: "object",
    properties: { url: { type: "string" }, retries: { type: "integer", minimum: 0 } },
    required: ["url"],
    additionalProperties: false,
  },
  async execute(inputs) {
    return { fetched: inputs.url ?? null };
  },
});

describe("executor input schemas", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.stop();
  });

  it("lists every bad input field at creation, with its path", async () => {
    h = await startHarness(new MemoryTaskStore(systemClock));
    h.registry.register(fetchLike);
    const error = (await h.service
      .createTree([{ name: "f", executor: "fetch_like", inputs: { retries: -1, colour: "red" } }])
      .catch((e: unknown) => e)) as ApflowError;
    expect(error).toBeInstanceOf(ApflowError);
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "tasks[0].inputs.colour",
      "tasks[0].inputs.retries",
      "tasks[0].inputs.url",
    ]);
    expect(await h.service.countTasks()).toBe(0);
  });

  it("lets a dependency supply a required input, and checks the merged inputs before running", async () => {
    h = await startHarness(new MemoryTaskStore(systemClock));
    h.registry.register(fetchLike);
    const ok = await h.service.createTree(
      [
        { name: "get", executor: "fetch_like", dependencies: ["source"] },
        { name: "source", executor: "echo", parentId: "get", inputs: { url: "https://example.test/" } },
      ],
      { execute: true },
    );
    const done = await h.service.waitForTree(ok.id);
    expect(done.find((t) => t.name === "get")!.result).toEqual({ fetched: "https://example.test/" });

    const missing = await h.service.createTree(
      [
        { name: "get", executor: "fetch_like", dependencies: ["source"], maxAttempts: 3 },
        { name: "source", executor: "echo", parentId: "get", inputs: { nothing: true } },
      ],
      { execute: true },
    );
    const failed = (await h.service.waitForTree(missing.id)).find((t) => t.name === "get")!;
    expect(failed).toMatchObject({ status: "failed", errorCode: ErrorCode.VALIDATION_ERROR, attempt: 1 });
    expect(failed.error).toMatch(/inputs\.url: is required/);
  });
});

describe("executor input schemas at registration", () => {
  const withSchema = (id: string, inputSchema: Record<string, unknown>) =>
    defineExecutor({ id, description: "x", inputSchema, execute: async () => null });

  it("refuses an executor whose inputSchema is not a JSON Schema, naming it", () => {
    const registry = new ExecutorRegistry();
    const error = (() => {
      try {
        registry.register(withSchema("broken", { type: "objekt" }));
      } catch (e) {
        return e;
      }
    })() as ApflowError;
    expect(error).toBeInstanceOf(ApflowError);
    expect(error.code).toBe(ErrorCode.VALIDATION_ERROR);
    expect(error.message).toMatch(/executor "broken" has an invalid inputSchema \(inputSchema\/type must be/);
    expect(registry.ids()).toEqual([]);
  });

  it("checks inputs against a schema with an $id, in every registry and at every moment", () => {
    const schema = {
      $id: "https://example.com/schemas/with-id",
      type: "object",
      properties: { n: { type: "integer" } },
      required: ["n"],
    };
    for (let i = 0; i < 2; i++) {
      const registry = new ExecutorRegistry([withSchema("with_id", schema)]);
      expect(registry.inputProblems("with_id", {}, "creation")).toEqual([{ path: ".n", message: "is required" }]);
      expect(registry.inputProblems("with_id", {}, "creation-with-dependencies")).toEqual([]);
      expect(registry.inputProblems("with_id", { n: "x" }, "run")).toEqual([
        { path: ".n", message: "must be integer" },
      ]);
    }
  });
});
