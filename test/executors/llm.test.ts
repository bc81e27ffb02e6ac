import { describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createLlmExecutor, type LlmExecutorOptions, type LlmResult } from "../../src/executors/llm.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { useOpenAiPeer } from "./peers/openai-server.js";

const peer = useOpenAiPeer();

const NODE_KEY = "sk-node-secret-0123456789";
const TASK_KEY = "sk-task-secret-9876543210";

function llm(overrides: LlmExecutorOptions = {}) {
  return createLlmExecutor({
    baseUrl: peer.baseUrl,
    apiKey: NODE_KEY,
    model: "test-model",
    retryBaseDelayMs: 10,
    ...overrides,
  });
}

async function run(inputs: JsonObject, ctx = fakeContext(), executor = llm()): Promise<LlmResult> {
  return (await executor.execute(inputs, ctx)) as LlmResult;
}

async function failure(inputs: JsonObject, executor = llm(), ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

describe("llm_executor answers", () => {
  it("streams a prompt's answer, reporting the text so far as progress", async () => {
    peer.script({ content: "one two three four five six" });
    const ctx = fakeContext();
    const result = await run({ prompt: "Count to six.", system: "You count.", maxTokens: 12 }, ctx);

    expect(result).toEqual({
      content: "one two three four five six",
      json: null,
      model: "test-model",
      usage: { promptTokens: 5, completionTokens: 6, totalTokens: 11 },
      finishReason: "stop",
    });
    const [request] = peer.requests;
    expect(request!.body.messages).toEqual([
      { role: "system", content: "You count." },
      { role: "user", content: "Count to six." },
    ]);
    expect(request!.body).toMatchObject({ model: "test-model", stream: true, max_tokens: 12 });
    expect(request!.body.stream_options).toEqual({ include_usage: true });
    expect(request!.headers.authorization).toBe(`Bearer ${NODE_KEY}`);

    expect(ctx.progress.length).toBe(6);
    expect(ctx.progress.map((p) => p.progress)).toEqual([1, 2, 3, 4, 5, 6].map((n) => n / 12));
    expect(ctx.progress[2]!.message).toBe("one two three ");
    expect(ctx.progress.at(-1)!.message).toBe("one two three four five six");
  });

  it("keeps progress below 1 without maxTokens", async () => {
    peer.script({ content: "a b c" });
    const ctx = fakeContext();
    await run({ prompt: "x" }, ctx);
    const values = ctx.progress.map((p) => p.progress);
    expect(values).toHaveLength(3);
    expect(values.every((v, i) => v > 0 && v < 1 && (i === 0 || v > values[i - 1]!))).toBe(true);
  });

  it("sends messages without streaming, with temperature and the task's model", async () => {
    peer.script({ content: "Paris.", finishReason: "stop", model: "served-model" });
    const ctx = fakeContext();
    const result = await run(
      {
        messages: [
          { role: "user", content: "Capital of France?" },
          { role: "assistant", content: "Which country?" },
          { role: "user", content: "France." },
        ],
        model: "other-model",
        temperature: 0.2,
        stream: false,
      },
      ctx,
    );
    expect(result.content).toBe("Paris.");
    expect(result.model).toBe("served-model");
    expect(result.usage).toEqual({ promptTokens: 6, completionTokens: 1, totalTokens: 7 });
    const body = peer.requests[0]!.body;
    expect(body).toMatchObject({ model: "other-model", temperature: 0.2, stream: false });
    expect(body.messages).toHaveLength(3);
    expect(body.stream_options).toBeUndefined();
    expect(ctx.progress).toEqual([]);
  });

  it("parses a JSON answer, even inside a code fence", async () => {
    peer.script({ content: 'Here you go:\n```json\n{"city": "Paris", "rank": 1}\n```' });
    const result = await run({ prompt: "JSON please", responseFormat: "json_object" });
    expect(result.json).toEqual({ city: "Paris", rank: 1 });
    expect(peer.requests[0]!.body.response_format).toEqual({ type: "json_object" });
  });

  it("asks for a JSON schema in OpenAI's format", async () => {
    peer.script({ content: '{"n": 3}' });
    const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
    const result = await run({ prompt: "n?", responseFormat: { type: "json_schema", schema, name: "count" } });
    expect(result.json).toEqual({ n: 3 });
    expect(peer.requests[0]!.body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "count", schema, strict: true },
    });
  });

  it("fails when JSON was requested but the answer is not JSON", async () => {
    peer.script({ content: "I cannot do that", finishReason: "length" });
    const error = await failure({ prompt: "JSON", responseFormat: "json_object" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("not JSON");
    expect(error.message).toContain("cut at maxTokens");
  });

  it("reports an error sent inside the stream", async () => {
    peer.script({ streamError: "the model crashed" });
    const error = await failure({ prompt: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("the model crashed");
  });
});

describe("llm_executor HTTP errors and retries", () => {
  it("retries a 429 honouring Retry-After, then succeeds", async () => {
    peer.script({ status: 429, headers: { "retry-after": "0.3" } }, { content: "fine" });
    const started = performance.now();
    const ctx = fakeContext();
    const result = await run({ prompt: "x" }, ctx);
    expect(result.content).toBe("fine");
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(peer.requests).toHaveLength(2);
    expect(ctx.logs.some((l) => l.message === "llm request will be retried" && l.fields.delayMs === 300)).toBe(true);
  });

  it("retries 5xx answers with backoff", async () => {
    peer.script({ status: 503 }, { status: 500 }, { content: "up again" });
    expect((await run({ prompt: "x", stream: false })).content).toBe("up again");
    expect(peer.requests).toHaveLength(3);
  });

  it("gives up after maxRetries with the status", async () => {
    peer.fallback = () => ({ status: 503, body: { error: { message: "overloaded" } } });
    const error = await failure({ prompt: "x" }, llm({ maxRetries: 2 }));
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.details).toMatchObject({ status: 503, attempts: 3 });
    expect(error.message).toContain("HTTP 503 after 3 attempts: overloaded");
    expect(peer.requests).toHaveLength(3);
  });

  it("fails at once when Retry-After asks for longer than maxRetryDelayMs", async () => {
    peer.script({ status: 429, headers: { "retry-after": "120" } });
    const error = await failure({ prompt: "x" }, llm({ maxRetryDelayMs: 1000 }));
    expect(error.details).toMatchObject({ status: 429, attempts: 1 });
    expect(peer.requests).toHaveLength(1);
  });

  it("does not retry other client errors, and keeps the server's message", async () => {
    peer.script({ status: 400, body: { error: { message: "model not found", type: "invalid_request_error" } } });
    const error = await failure({ prompt: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.details?.status).toBe(400);
    expect(error.message).toContain("returned HTTP 400: model not found");
    expect(peer.requests).toHaveLength(1);
  });

  it("never shows the API key, even when the server echoes it", async () => {
    peer.script({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${TASK_KEY}` }, api_key: TASK_KEY },
    });
    const ctx = fakeContext();
    const error = await failure({ prompt: "x", apiKey: TASK_KEY }, llm(), ctx);
    expect(error.message).toContain("HTTP 401");
    expect(error.message).toContain("check the API key");
    const shown = JSON.stringify([error.message, error.details, ctx.logs, ctx.progress]);
    expect(shown).not.toContain(TASK_KEY);
    expect(shown).not.toContain(NODE_KEY);
    expect(peer.requests[0]!.headers.authorization).toBe(`Bearer ${TASK_KEY}`);
  });

  it("fails when the connection breaks in the middle of a stream", async () => {
    peer.script({ content: "a b c d", dropAfterChunks: 2, delayMs: 20 });
    const error = await failure({ prompt: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("broke while reading the answer");
    expect(peer.requests).toHaveLength(1);
  });

  it("fails with the network error when nothing listens", async () => {
    const error = await failure({ prompt: "x" }, llm({ baseUrl: "http://127.0.0.1:1/v1" }));
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("could not reach http://127.0.0.1:1/v1/chat/completions");
  });
});

describe("llm_executor cancellation and timeouts", () => {
  it("stops a slow stream when the task is cancelled", async () => {
    peer.script({ content: "a b c d e f", hangAfterChunks: 2 });
    const controller = new AbortController();
    const ctx = fakeContext({ signal: controller.signal });
    const pending = run({ prompt: "x" }, ctx);
    await expect.poll(() => ctx.progress.length).toBe(2);
    const reason = new ApflowError("CANCELLED", "cancelled by test");
    controller.abort(reason);
    expect(await caught(() => pending)).toBe(reason);
    await expect.poll(() => peer.requests[0]?.closedEarly).toBe(true);
  });

  it("fails with TIMEOUT when the answer takes too long", async () => {
    peer.script({ content: "never finished", hangAfterChunks: 1 });
    const error = await failure({ prompt: "x", timeoutMs: 300 });
    expect(error.code).toBe("TIMEOUT");
    await expect.poll(() => peer.requests[0]?.closedEarly).toBe(true);
  });

  it("stops waiting for a retry when cancelled", async () => {
    peer.script({ status: 429, headers: { "retry-after": "20" } });
    const controller = new AbortController();
    const pending = run({ prompt: "x" }, fakeContext({ signal: controller.signal }), llm({ maxRetryDelayMs: 60_000 }));
    await expect.poll(() => peer.requests.length).toBe(1);
    controller.abort(new Error("stop"));
    expect(((await caught(() => pending)) as Error).message).toBe("stop");
  });
});

describe("llm_executor endpoints and keys", () => {
  const elsewhere = { baseUrl: "http://127.0.0.1:1/v1", apiKey: NODE_KEY, model: "m", retryBaseDelayMs: 10 };

  it("refuses a task-chosen endpoint at a private address", async () => {
    const error = await failure({ prompt: "x", baseUrl: peer.baseUrl }, createLlmExecutor(elsewhere));
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toMatch(
      /^llm_executor refused http:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address/,
    );
    expect(peer.requests).toHaveLength(0);
  });

  it("never sends the node's key to a task-chosen endpoint", async () => {
    const executor = createLlmExecutor({ ...elsewhere, allowPrivateUrls: true });
    await run({ prompt: "x", baseUrl: peer.baseUrl }, fakeContext(), executor);
    expect(peer.requests[0]!.headers.authorization).toBeUndefined();
    await run({ prompt: "x", baseUrl: `${peer.baseUrl}/`, apiKey: TASK_KEY }, fakeContext(), executor);
    expect(peer.requests[1]!.headers.authorization).toBe(`Bearer ${TASK_KEY}`);
  });

  it("treats the node's own endpoint, however written, as trusted", async () => {
    await run({ prompt: "x", baseUrl: `${peer.baseUrl}/` });
    expect(peer.requests[0]!.headers.authorization).toBe(`Bearer ${NODE_KEY}`);
  });
});

describe("llm_executor inputs", () => {
  it("reports every problem at once", async () => {
    const executor = createLlmExecutor({ baseUrl: peer.baseUrl });
    const error = await failure(
      { messages: [{ role: "robot", content: "x" }, { role: "user" }], temperature: 5, maxTokens: 0, stream: "yes" },
      executor,
    );
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.maxTokens",
      "inputs.messages[0].role",
      "inputs.messages[1].content",
      "inputs.model",
      "inputs.stream",
      "inputs.temperature",
    ]);
    expect(peer.requests).toHaveLength(0);
  });

  it("needs exactly one of prompt and messages", async () => {
    expect((await failure({})).problems.map((p) => p.message)).toEqual(["is required (or give messages)"]);
    const both = await failure({ prompt: "a", messages: [{ role: "user", content: "b" }] });
    expect(both.problems[0]!.message).toContain("cannot be combined with messages");
  });

  it("rejects a bad baseUrl and responseFormat", async () => {
    const error = await failure({ prompt: "x", baseUrl: "ftp://x", responseFormat: "xml" });
    expect(error.problems.map((p) => p.path)).toEqual(["inputs.baseUrl", "inputs.responseFormat"]);
  });

  it("has a strict input schema", () => {
    const schema = llm().inputSchema as { additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        "baseUrl",
        "apiKey",
        "model",
        "messages",
        "prompt",
        "system",
        "responseFormat",
        "stream",
      ]),
    );
  });
});
