/** Executor input schemas are enforced at creation and again after dependency results are merged. */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { ApflowError, ErrorCode } from "../../src/core/errors.js";
import { defineExecutor } from "../../src/core/executor.js";
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
