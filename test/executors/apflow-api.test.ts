/**
 * apflow_api_executor against a second, real apflow node (GraphQL over HTTP and
 * WebSocket on loopback), directly or through a proxy that breaks the WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { type ApflowApiResult, createApflowApiExecutor } from "../../src/executors/apflow-api.js";
import { eventually } from "../support/harness.js";
import { useTestServer } from "../support/server.js";
import { newProbe, testExecutors } from "../support/test-executors.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { type GraphqlProxy, startGraphqlProxy } from "./peers/graphql-proxy.js";

const probe = newProbe();
const remote = useTestServer("pglite", { apflow: { executors: testExecutors(probe) } });
let proxy: GraphqlProxy;

beforeAll(async () => {
  proxy = await startGraphqlProxy(remote.url);
});
// afterAll hooks run in reverse order: the proxy closes before the server behind it.
afterAll(async () => {
  await proxy?.close();
});

// The remote node listens on loopback, which the guard refuses by default (tested below).
const api = createApflowApiExecutor({ allowPrivateUrls: true, pollIntervalMs: 100 });

async function run(inputs: JsonObject, executor = api, ctx = fakeContext()): Promise<ApflowApiResult> {
  return (await executor.execute(inputs, ctx)) as ApflowApiResult;
}

async function failure(inputs: JsonObject, executor = api, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

/** root aggregates `a` (echo) and `b` (progress), all named with `prefix`. */
const simpleTree = (prefix: string): JsonObject[] => [
  {
    name: `${prefix}root`,
    executor: "aggregate_results_executor",
    dependencies: [`${prefix}a`, { id: `${prefix}b`, required: true }],
  },
  { name: `${prefix}a`, executor: "echo", parentId: `${prefix}root`, inputs: { value: { n: 1 } } },
  { name: `${prefix}b`, executor: "progress", parentId: `${prefix}root` },
];

/** root waits for a `gate` task the test opens (or the executor cancels). */
const gatedTree = (prefix: string): JsonObject[] => [
  { name: `${prefix}root`, executor: "aggregate_results_executor", dependencies: [`${prefix}wait`] },
  { name: `${prefix}wait`, executor: "gate", parentId: `${prefix}root` },
];

const remoteTask = async (name: string) => (await remote.apflow.listTasks({ name }))[0]!;
const logged = (ctx: ReturnType<typeof fakeContext>, message: string) => ctx.logs.some((l) => l.message === message);

describe("apflow_api_executor", () => {
  it("runs a tree on the remote node and returns its root result and every task", async () => {
    const ctx = fakeContext();
    const result = await run({ url: remote.url, tasks: simpleTree("ok-") }, api, ctx);
    const [a, b] = [await remoteTask("ok-a"), await remoteTask("ok-b")];
    expect(result.status).toBe("completed");
    expect(result.rootId).toBe((await remoteTask("ok-root")).id);
    expect(result.result).toEqual({ [a.id]: { n: 1 }, [b.id]: { done: true } });
    expect(result.tasks.map((t) => [t.name, t.status]).sort()).toEqual([
      ["ok-a", "completed"],
      ["ok-b", "completed"],
      ["ok-root", "completed"],
    ]);
    expect(result.tasks.find((t) => t.name === "ok-a")).toEqual({
      id: a.id,
      name: "ok-a",
      status: "completed",
      result: { n: 1 },
      error: null,
      errorCode: null,
    });
    // Progress mirrors the remote roll-up, ending with everything finished; events, not polling.
    expect(ctx.progress.at(-1)).toEqual({ progress: 1, message: "3/3 remote tasks finished" });
    expect(logged(ctx, "remote events unavailable; polling the remote tree instead")).toBe(false);
  });

  it("reports progress as the remote roll-up moves, not just at the end", async () => {
    const ctx = fakeContext();
    const pending = run({ url: remote.url, tasks: gatedTree("progress-") }, api, ctx);
    await eventually(() => probe.gates.has("progress-wait"), 10_000);
    await eventually(() => ctx.progress.length >= 2, 10_000);
    expect(ctx.progress.at(-1)?.progress).toBe(0);
    probe.gates.get("progress-wait")!();
    await pending;
    const seen = ctx.progress.map((p) => p.message);
    expect(seen).toContain("1/2 remote tasks finished");
    expect(ctx.progress.at(-1)).toEqual({ progress: 1, message: "2/2 remote tasks finished" });
    const values = ctx.progress.map((p) => p.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it("accepts apflow's own task format (schemas.method, parent_id)", async () => {
    const result = await run({
      url: remote.url,
      tasks: [
        { id: "py-root-id", name: "py-root", schemas: { method: "echo" }, inputs: { value: "hello" } },
        { name: "py-child", schemas: { method: "noop" }, parent_id: "py-root-id" },
      ],
    });
    expect(result).toMatchObject({ rootId: "py-root-id", status: "completed", result: "hello" });
  });

  it("fails with the remote error code when the remote tree fails", async () => {
    const error = await failure({
      url: remote.url,
      tasks: [
        { name: "bad-root", executor: "aggregate_results_executor", dependencies: ["bad-slow"] },
        { name: "bad-slow", executor: "sleep", parentId: "bad-root", inputs: { ms: 10_000 }, timeoutMs: 100 },
      ],
    });
    const root = await remoteTask("bad-root");
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toMatch(
      new RegExp(`^remote tree ${root.id} on ${remote.url} failed \\(task "bad-slow"\\): `),
    );
    expect(error.details).toMatchObject({
      remoteRootId: root.id,
      remoteStatus: "failed",
      remoteCode: "TIMEOUT",
      remoteUrl: remote.url,
    });
    const failed = error.details?.failedTasks as { name: string; errorCode: string }[];
    expect(failed.map((t) => [t.name, t.errorCode]).sort()).toEqual([
      ["bad-root", "DEPENDENCY_FAILED"],
      ["bad-slow", "TIMEOUT"],
    ]);
  });

  it("reports a tree the remote node refuses as invalid inputs, creating nothing", async () => {
    const error = await failure({ url: remote.url, tasks: [{ name: "nope-root", executor: "no_such_executor" }] });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.message).toContain(`remote apflow ${remote.url} refused the tree`);
    expect(error.problems.length).toBeGreaterThan(0);
    expect(error.problems.every((p) => p.path.startsWith("inputs.tasks[0]"))).toBe(true);
    expect(await remote.apflow.listTasks({ name: "nope-root" })).toEqual([]);
  });

  it("cancels the remote tree when the task is cancelled", async () => {
    const controller = new AbortController();
    const reason = new ApflowError("CANCELLED", "cancelled by test");
    const ctx = fakeContext({ signal: controller.signal });
    const pending = run({ url: remote.url, tasks: gatedTree("cancel-") }, api, ctx);
    await eventually(() => probe.gates.has("cancel-wait"), 10_000);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect((await remoteTask("cancel-root")).status).toBe("cancelled");
    await eventually(() => probe.aborted.has("cancel-wait"), 10_000);
    expect(logged(ctx, "remote tree cancelled")).toBe(true);
  });

  it("fails with TIMEOUT after timeoutMs and cancels the remote tree", async () => {
    const error = await failure({ url: remote.url, tasks: gatedTree("slow-"), timeoutMs: 1500 });
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toContain("timed out after 1500 ms and was cancelled");
    expect((await remoteTask("slow-root")).status).toBe("cancelled");
  });

  it("does not start when the signal is already aborted", async () => {
    const reason = new Error("shutdown");
    const error = await caught(() =>
      api.execute({ url: remote.url, tasks: simpleTree("never-") }, fakeContext({ signal: AbortSignal.abort(reason) })),
    );
    expect(error).toBe(reason);
    expect(await remote.apflow.listTasks({ name: "never-root" })).toEqual([]);
  });
});

describe("apflow_api_executor connections", () => {
  it("sends the token on HTTP and on the WebSocket, and resumes after the socket drops", async () => {
    proxy.mode = "pass";
    proxy.requests.length = 0;
    const ctx = fakeContext();
    const pending = run({ url: proxy.url, token: "tok-resume-1", tasks: gatedTree("resume-") }, api, ctx);
    await eventually(() => probe.gates.has("resume-wait"), 10_000);
    await eventually(() => ctx.progress.length >= 2, 10_000);
    proxy.cutWebSockets();
    await eventually(() => logged(ctx, "remote event stream dropped; resuming"), 10_000);
    await eventually(() => proxy.requests.filter((r) => r.kind === "upgrade").length >= 2, 10_000);
    probe.gates.get("resume-wait")!();
    const result = await pending;
    expect(result.status).toBe("completed");
    const resumed = ctx.logs.find((l) => l.message === "remote event stream dropped; resuming")!;
    expect(resumed.fields.after).toMatch(/:\d+$/);
    expect(logged(ctx, "remote events unavailable; polling the remote tree instead")).toBe(false);
    expect(proxy.requests.every((r) => r.headers.authorization === "Bearer tok-resume-1")).toBe(true);
    expect(JSON.stringify(ctx.logs)).not.toContain("tok-resume-1");
  });

  it("polls the remote tree when no WebSocket can be opened", async () => {
    proxy.mode = "refuse-ws";
    try {
      const ctx = fakeContext();
      const result = await run({ url: proxy.url, tasks: simpleTree("poll-") }, api, ctx);
      expect(result.status).toBe("completed");
      expect(logged(ctx, "remote events unavailable; polling the remote tree instead")).toBe(true);
      expect(ctx.progress.at(-1)?.progress).toBe(1);
    } finally {
      proxy.mode = "pass";
    }
  });

  it("never shows the token, even when the node quotes it back", async () => {
    proxy.mode = "unauthorized";
    try {
      const ctx = fakeContext();
      const error = await failure({ url: proxy.url, token: "tok-secret-42", tasks: simpleTree("auth-") }, api, ctx);
      expect(error.code).toBe("EXECUTOR_FAILED");
      expect(error.message).toBe(`remote apflow ${proxy.url} answered HTTP 401 (check the token)`);
      expect(String(error.details?.body)).toContain("token rejected: Bearer [REDACTED]");
      expect(JSON.stringify([error.message, error.details, ctx.logs])).not.toContain("tok-secret-42");
    } finally {
      proxy.mode = "pass";
    }
  });

  it("refuses a node on a private address unless allowed, sending nothing", async () => {
    const before = proxy.requests.length;
    const error = await failure({ url: proxy.url, tasks: simpleTree("guard-") }, createApflowApiExecutor());
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("apflow_api_executor refused");
    expect(error.message).toContain("APFLOW_REST_ALLOW_PRIVATE_URLS=1");
    expect(proxy.requests.length).toBe(before);
  });

  it("reports an unreachable node", async () => {
    const error = await failure({ url: "http://127.0.0.1:1/graphql", tasks: simpleTree("down-") });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("remote apflow http://127.0.0.1:1/graphql not reachable");
    expect(error.details?.code).toBe("ECONNREFUSED");
  });

  it("lists every invalid input at once", async () => {
    const error = await failure({ url: "ftp://x/graphql", tasks: [], timeoutMs: 0 });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual(["inputs.tasks", "inputs.timeoutMs", "inputs.url"]);
  });
});
