import { describe, expect, it } from "vitest";
import type { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import {
  type BatchResult,
  type CrewResult,
  createBatchCrewExecutor,
  createCrewExecutor,
} from "../../src/executors/crew.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { type SeenChat, useOpenAiPeer } from "./peers/openai-server.js";

const peer = useOpenAiPeer();

const settings = () => ({ baseUrl: peer.baseUrl, apiKey: "sk-crew-key", model: "crew-model", retryBaseDelayMs: 10 });
const crewExecutor = () => createCrewExecutor(settings());
const batchExecutor = () => createBatchCrewExecutor(settings());

const researcher = { role: "Researcher", goal: "Find facts about {topic}", backstory: "A careful librarian." };
const writer = { role: "Writer", goal: "Write clearly", backstory: "A journalist.", model: "writer-model" };

const user = (request: SeenChat | undefined) => request!.body.messages.find((m) => m.role === "user")!.content;
const system = (request: SeenChat | undefined) => request!.body.messages.find((m) => m.role === "system")!.content;

async function failure(executor = crewExecutor(), inputs: JsonObject, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

describe("crew_executor", () => {
  const inputs: JsonObject = {
    agents: [researcher, writer],
    tasks: [
      { description: "Collect three facts about {topic}.", expectedOutput: "A bullet list", agent: "Researcher" },
      { description: "Write a paragraph from the facts.", expectedOutput: "One paragraph", agent: "Writer" },
      { description: 'Return {"title": ...} for the paragraph.', expectedOutput: "JSON", agent: "Writer" },
    ],
    variables: { topic: "owls" },
  };

  it("works through the tasks in order, each seeing the previous output", async () => {
    peer.script(
      { content: "- owls hoot\n- owls fly" },
      { content: "Owls hoot and fly." },
      { content: '{"title":"Owls"}' },
    );
    const ctx = fakeContext();
    const result = (await crewExecutor().execute(inputs, ctx)) as CrewResult;

    expect(result.result).toBe('{"title":"Owls"}');
    expect(result.tasks).toEqual([
      { description: "Collect three facts about owls.", agent: "Researcher", output: "- owls hoot\n- owls fly" },
      { description: "Write a paragraph from the facts.", agent: "Writer", output: "Owls hoot and fly." },
      { description: 'Return {"title": ...} for the paragraph.', agent: "Writer", output: '{"title":"Owls"}' },
    ]);
    expect(result.usage!.completionTokens).toBe(6 + 4 + 1);
    expect(result.usage!.totalTokens).toBe(result.usage!.promptTokens + result.usage!.completionTokens);

    const [first, second, third] = peer.requests;
    expect(first!.body.model).toBe("crew-model");
    expect(second!.body.model).toBe("writer-model");
    expect(system(first)).toContain("You are Researcher.");
    expect(system(first)).toContain("A careful librarian.");
    expect(system(first)).toContain("Your personal goal is: Find facts about owls");
    expect(user(first)).toContain("Current task: Collect three facts about owls.");
    expect(user(first)).toContain("expected criteria for your final answer: A bullet list");
    expect(user(first)).not.toContain("context");
    expect(user(second)).toContain("output of the previous task (by Researcher):\n- owls hoot\n- owls fly");
    expect(user(third)).toContain("(by Writer):\nOwls hoot and fly.");
    expect(user(third)).toContain('Return {"title": ...}');
    expect(first!.headers.authorization).toBe("Bearer sk-crew-key");

    expect(ctx.progress).toEqual([
      { progress: 1 / 3, message: "task 1/3 done by Researcher" },
      { progress: 2 / 3, message: "task 2/3 done by Writer" },
      { progress: 1, message: "task 3/3 done by Writer" },
    ]);
  });

  it("fails at the first failing step without running the rest", async () => {
    peer.script({ content: "facts" }, { status: 400, body: { error: { message: "context too long" } } });
    const error = await failure(crewExecutor(), inputs);
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("context too long");
    expect(peer.requests).toHaveLength(2);
  });

  it("stops when cancelled during a step", async () => {
    peer.script({ content: "slow facts", delayMs: 5_000 });
    const controller = new AbortController();
    const pending = crewExecutor().execute(inputs, fakeContext({ signal: controller.signal }));
    await expect.poll(() => peer.requests.length).toBe(1);
    controller.abort(new Error("cancelled"));
    expect(((await caught(() => pending)) as Error).message).toBe("cancelled");
    await expect.poll(() => peer.requests[0]!.closedEarly).toBe(true);
    expect(peer.requests).toHaveLength(1);
  });

  it("reports every problem in the crew at once", async () => {
    const error = await failure(createCrewExecutor({ baseUrl: peer.baseUrl }), {
      agents: [researcher, { ...researcher, role: "Checker", goal: "" }, { role: "Critic" }],
      tasks: [
        { description: "x", expectedOutput: "y", agent: "Editor" },
        { description: "x", agent: "Critic" },
      ],
    });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path)).toEqual([
      "inputs.agents[0].model",
      "inputs.agents[1].goal",
      "inputs.agents[1].model",
      "inputs.agents[2].goal",
      "inputs.agents[2].model",
      "inputs.tasks[0].agent",
      "inputs.tasks[1].expectedOutput",
    ]);
    expect(error.problems[5]!.message).toBe('no agent has the role "Editor" (roles: Researcher, Checker, Critic)');
    expect(peer.requests).toHaveLength(0);
  });

  it("rejects duplicate roles and empty lists", async () => {
    const duplicate = await failure(crewExecutor(), {
      agents: [researcher, researcher],
      tasks: [{ description: "x", expectedOutput: "y", agent: "Researcher" }],
    });
    expect(duplicate.problems.map((p) => p.path)).toEqual(["inputs.agents[1].role"]);
    const empty = await failure(crewExecutor(), { agents: [], tasks: "none" });
    expect(empty.problems.map((p) => p.path)).toEqual(["inputs.agents", "inputs.tasks"]);
  });
});

describe("batch_crew_executor", () => {
  const oneCrew = {
    agents: [{ role: "Summarizer", goal: "Summarize {item}", backstory: "Terse." }],
    tasks: [
      { description: "List key points of {item}.", expectedOutput: "Points", agent: "Summarizer" },
      { description: "Summarize the points.", expectedOutput: "One line", agent: "Summarizer" },
    ],
  };

  it("runs one crew per item with bounded concurrency, keeping the items' order", async () => {
    peer.fallback = (request) => ({ content: `done: ${user(request).split("\n")[0]}`, delayMs: 50 });
    const ctx = fakeContext();
    const items = ["alpha", "beta", { name: "gamma" }, "delta"];
    const result = (await batchExecutor().execute({ ...oneCrew, items, concurrency: 2 }, ctx)) as BatchResult;

    expect(result.completed).toBe(4);
    expect(result.failed).toBe(0);
    expect(result.results.map((r) => r.item)).toEqual(items);
    expect(result.results.map((r) => r.status)).toEqual(["completed", "completed", "completed", "completed"]);
    expect(result.results[2]!.tasks[0]!.description).toBe('List key points of {"name":"gamma"}.');
    expect(result.results[0]!.result).toBe("done: Current task: Summarize the points.");
    expect(result.usage!.completionTokens).toBe(result.results.reduce((n, r) => n + r.usage!.completionTokens, 0));
    expect(peer.requests).toHaveLength(8);
    expect(peer.maxInFlight).toBe(2);
    const betaSecond = peer.requests.find(
      (r) => user(r).includes("Summarize the points") && user(r).includes("List key points of beta"),
    );
    expect(betaSecond).toBeDefined();
    expect(system(peer.requests[0])).toMatch(/Summarize (alpha|beta)/);

    expect(ctx.progress).toHaveLength(8);
    expect(ctx.progress.map((p) => p.progress)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => n / 8));
    expect(ctx.progress.some((p) => p.message === "item 3: task 2/2 done by Summarizer")).toBe(true);
  });

  it("reports a failed crew and keeps going with continueOnError", async () => {
    peer.fallback = (request) =>
      user(request).includes("broken") ? { status: 422, body: { error: { message: "cannot" } } } : { content: "ok" };
    const crews = [
      { name: "good", ...oneCrew, variables: { item: "fine" } },
      { name: "bad", ...oneCrew, variables: { item: "broken" } },
      { ...oneCrew, variables: { item: "also fine" } },
    ];
    const result = (await batchExecutor().execute({ crews, continueOnError: true }, fakeContext())) as BatchResult;
    expect(result.completed).toBe(2);
    expect(result.failed).toBe(1);
    expect(result.results.map((r) => [r.name, r.status])).toEqual([
      ["good", "completed"],
      ["bad", "failed"],
      ["crew 3", "completed"],
    ]);
    expect(result.results[1]!.error!.code).toBe("EXECUTOR_FAILED");
    expect(result.results[1]!.error!.message).toContain("HTTP 422: cannot");
    expect(result.results[1]!.result).toBeNull();
  });

  it("fails the batch at the first failure, stopping the other crews", async () => {
    peer.fallback = (request) =>
      user(request).includes("broken")
        ? { status: 500, body: { error: { message: "model crashed" } } }
        : { content: "slow", delayMs: 5_000 };
    const items = ["slow one", "broken", "never started", "never either"];
    const error = await failure(
      createBatchCrewExecutor({ ...settings(), maxRetries: 0 }),
      { ...oneCrew, items, concurrency: 2 },
      fakeContext(),
    );
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("the crew for item 2 failed");
    expect(error.message).toContain("model crashed");
    expect(error.details).toMatchObject({ index: 1, completed: 0 });
    await expect.poll(() => peer.requests[0]!.closedEarly).toBe(true);
    expect(peer.requests.some((r) => user(r).includes("never"))).toBe(false);
  });

  it("checks its inputs", async () => {
    const both = await failure(batchExecutor(), { crews: [oneCrew], ...oneCrew, items: ["x"] });
    expect(both.problems.map((p) => p.path)).toEqual(["inputs.agents", "inputs.tasks", "inputs.items"]);
    const none = await failure(batchExecutor(), { concurrency: 0 });
    expect(none.problems.map((p) => p.path)).toEqual(["inputs.crews", "inputs.concurrency"]);
    const nested = await failure(batchExecutor(), { crews: [{ agents: [researcher], tasks: [] }] });
    expect(nested.problems.map((p) => p.path)).toEqual(["inputs.crews[0].tasks"]);
  });
});
