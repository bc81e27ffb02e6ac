import { describe, expect, it } from "vitest";
import type { ApflowError } from "../../src/core/errors.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import { planTree } from "../../src/core/tree-plan.js";
import type { JsonObject } from "../../src/core/types.js";
import { builtinExecutors } from "../../src/executors/builtin.js";
import { createGenerateExecutor, type GenerateResult } from "../../src/executors/generate.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { useOpenAiPeer } from "./peers/openai-server.js";

const peer = useOpenAiPeer();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function setup() {
  // The built-ins include llm_executor; the generate executor under test replaces the built-in one.
  const registry = new ExecutorRegistry(builtinExecutors().filter((e) => e.id !== "generate_executor"));
  registry.block("command_executor", "command_executor is disabled on this node");
  const generate = createGenerateExecutor({
    baseUrl: peer.baseUrl,
    apiKey: "sk-generate",
    model: "planner",
    executors: () => registry.list(),
  });
  registry.register(generate);
  return { registry, generate };
}

async function generateTree(inputs: JsonObject, ctx = fakeContext()): Promise<GenerateResult> {
  return (await setup().generate.execute(inputs, ctx)) as GenerateResult;
}

async function failure(inputs: JsonObject): Promise<ApflowError> {
  return caughtApflowError(() => setup().generate.execute(inputs, fakeContext()));
}

const invalidTree = [
  {
    id: "root",
    name: "Combine",
    executor: "aggregate_results_executor",
    inputs: {},
    parentId: null,
    dependencies: [{ id: "fetch", required: true }],
  },
  {
    id: "fetch",
    name: "Fetch",
    executor: "rest_executor",
    inputs: { method: "FETCH", verbose: true },
    parentId: "root",
    dependencies: [{ id: "beam", required: true }],
  },
  { id: "beam", name: "Beam", executor: "teleport_executor", inputs: {}, parentId: "root", dependencies: ["fetch"] },
  { id: "notify", name: "Notify", executor: "rest_executor", inputs: { timeoutMs: "soon" }, parentId: "root" },
];

const validTree = [
  {
    id: "root",
    name: "Combine",
    executor: "aggregate_results_executor",
    inputs: {},
    parentId: null,
    dependencies: [
      { id: "fetch", required: true },
      { id: "info", required: false },
    ],
  },
  {
    id: "fetch",
    name: "Fetch",
    executor: "rest_executor",
    inputs: { url: "https://example.com/data", method: "GET" },
    parentId: "root",
    priority: 1,
  },
  { id: "info", name: "Info", executor: "system_info_executor", inputs: { resource: "cpu" }, parentId: "root" },
];

describe("generate_executor", () => {
  it("asks again with every problem of an invalid answer, then returns the valid tree", async () => {
    peer.script(
      { content: JSON.stringify(invalidTree) },
      { content: `Fixed:\n\`\`\`json\n${JSON.stringify(validTree, null, 2)}\n\`\`\`` },
    );
    const ctx = fakeContext();
    const result = await generateTree({ requirement: "Fetch example.com and report CPU usage." }, ctx);

    expect(result.attempts).toBe(2);
    expect(result.tasks.map((t) => [t.name, t.executor, t.priority])).toEqual([
      ["Combine", "aggregate_results_executor", 2],
      ["Fetch", "rest_executor", 1],
      ["Info", "system_info_executor", 2],
    ]);
    const [root, fetch, info] = result.tasks;
    expect(root!.id).toMatch(UUID);
    expect(root!.parentId).toBeNull();
    expect(fetch!.parentId).toBe(root!.id);
    expect(root!.dependencies).toEqual([
      { id: fetch!.id, required: true },
      { id: info!.id, required: false },
    ]);
    expect(fetch!.inputs).toEqual({ url: "https://example.com/data", method: "GET" });
    // What comes out is a valid create request.
    const { registry } = setup();
    const plan = planTree(result.tasks, {
      executorAvailability: (id) => registry.availability(id),
      generateId: () => "x",
      existingIds: new Map(),
    });
    expect(plan.tasks).toHaveLength(3);

    const [first, second] = peer.requests;
    const firstSystem = first!.body.messages[0]!;
    expect(firstSystem.role).toBe("system");
    expect(firstSystem.content).toContain("### rest_executor");
    expect(firstSystem.content).toContain('"url":{"type":"string","format":"uri"');
    expect(firstSystem.content).toContain("### llm_executor");
    expect(firstSystem.content).not.toContain("### generate_executor");
    expect(firstSystem.content).not.toContain("### command_executor");
    expect(first!.body.messages[1]).toEqual({
      role: "user",
      content: "Requirement:\nFetch example.com and report CPU usage.",
    });
    expect(first!.body.model).toBe("planner");
    expect(first!.headers.authorization).toBe("Bearer sk-generate");

    const retry = second!.body.messages;
    expect(retry.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(retry[2]!.content).toBe(JSON.stringify(invalidTree));
    const feedback = retry[3]!.content;
    expect(feedback).toContain('tasks[2].executor: no executor "teleport_executor" is registered');
    expect(feedback).toMatch(/dependency cycle: "Fetch" -> "Beam" -> "Fetch"/);
    expect(feedback).toContain('tasks[1].inputs.method: must be one of "GET", "HEAD", "POST"');
    expect(feedback).toContain("tasks[1].inputs.verbose: is not an input of rest_executor at this level");
    expect(feedback).toContain("tasks[3].inputs.url: is required");
    expect(feedback).toContain("tasks[3].inputs.timeoutMs: must be integer");
    // Fetch depends on Beam, whose result may bring the url: not a problem.
    expect(feedback).not.toContain("tasks[1].inputs.url");
    expect(feedback).toContain("answer with the complete corrected JSON array only");

    expect(ctx.progress).toEqual([{ progress: 1 / 3, message: "attempt 1: 6 problems" }]);
  });

  it("fails with VALIDATION_ERROR listing the problems after the last attempt", async () => {
    peer.fallback = () => ({ content: JSON.stringify(invalidTree) });
    const error = await failure({ requirement: "something", maxAttempts: 2 });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toMatch(/^generate_executor: the generated task tree still has 6 problems after 2 attempts:/);
    expect(error.problems.map((p) => p.path)).toContain("tasks[2].executor");
    expect(error.problems.map((p) => p.code)).toContain("DEPENDENCY_CYCLE");
    expect(error.details?.attempts).toBe(2);
    expect(peer.requests).toHaveLength(2);
  });

  it("tells the model when the answer is not JSON, and accepts { tasks } and apflow's snake_case format", async () => {
    peer.script(
      { content: "Sure! I will design a tree." },
      {
        content: JSON.stringify({
          tasks: [
            { id: "a", name: "Root", schemas: { method: "system_info_executor" }, inputs: {} },
            { id: "b", name: "Child", schemas: { method: "system_info_executor" }, parent_id: "a" },
          ],
        }),
      },
    );
    const result = await generateTree({ requirement: "system info" });
    expect(result.attempts).toBe(2);
    expect(result.tasks.map((t) => t.executor)).toEqual(["system_info_executor", "system_info_executor"]);
    expect(result.tasks[1]!.parentId).toBe(result.tasks[0]!.id);
    expect(peer.requests[1]!.body.messages[3]!.content).toContain("answer: is not JSON");
  });

  it("offers only the executors asked for, and refuses others in the answer", async () => {
    peer.script(
      { content: JSON.stringify([{ name: "Run", executor: "command_executor", inputs: { command: "ls" } }]) },
      { content: JSON.stringify([{ name: "Ask", executor: "rest_executor", inputs: { url: "https://x.test" } }]) },
      { content: JSON.stringify([{ name: "Info", executor: "system_info_executor" }]) },
    );
    const result = await generateTree({ requirement: "info", executors: ["system_info_executor"] });
    expect(result.attempts).toBe(3);
    const system = peer.requests[0]!.body.messages[0]!.content;
    expect(system).toContain("### system_info_executor");
    expect(system).not.toContain("### rest_executor");
    expect(peer.requests[1]!.body.messages.at(-1)!.content).toContain(
      'tasks[0].executor: executor "command_executor" is not enabled on this server',
    );
    expect(peer.requests[2]!.body.messages.at(-1)!.content).toContain(
      'tasks[0].executor: executor "rest_executor" is not enabled on this server',
    );
  });

  it("checks its own inputs", async () => {
    const error = await failure({ requirement: "", maxAttempts: 0, executors: ["nope", "command_executor"] });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path)).toEqual(["inputs.requirement", "inputs.maxAttempts", "inputs.executors"]);
    expect(error.problems[2]!.message).toBe("not available on this node: nope, command_executor");
    expect(peer.requests).toHaveLength(0);
  });

  it("stops when cancelled", async () => {
    peer.script({ content: "[]", delayMs: 5_000 });
    const controller = new AbortController();
    const pending = setup().generate.execute({ requirement: "x" }, fakeContext({ signal: controller.signal }));
    await expect.poll(() => peer.requests.length).toBe(1);
    controller.abort(new Error("cancelled"));
    expect(((await caught(() => pending)) as Error).message).toBe("cancelled");
    await expect.poll(() => peer.requests[0]!.closedEarly).toBe(true);
  });
});
