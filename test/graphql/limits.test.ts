/** Operation limits and error masking, over real HTTP and WebSocket. */
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { ApflowError, ErrorCode } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { maskError } from "../../src/graphql/errors.js";
import { collect, useTestServer } from "../support/server.js";

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body,
  });
  return {
    status: response.status,
    json: (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] },
  };
}

describe("operation limits", () => {
  const s = useTestServer("pglite", {
    apflow: { runTasks: false },
    app: { limits: { maxDepth: 6, maxCost: 5_000 }, maxBodyBytes: 4_096 },
  });

  it("rejects a query nested deeper than the limit, naming the setting", async () => {
    const deep =
      '{ task(id: "x") { children { children { children { children { children { children { id } } } } } } } }';
    const { json } = await post(s.url, JSON.stringify({ query: deep }));
    expect(json.errors![0]!.extensions!.code).toBe("QUERY_TOO_DEEP");
    expect(json.errors![0]!.message).toMatch(/APFLOW_GRAPHQL_MAX_DEPTH/);
  });

  it("rejects a query whose estimated cost is over the limit", async () => {
    const costly = "{ tasks(first: 500) { edges { node { children { id name dependents { id } } } } } }";
    const { json } = await post(s.url, JSON.stringify({ query: costly }));
    expect(json.errors![0]!.extensions!.code).toBe("QUERY_TOO_COSTLY");
    const cheap = await post(
      s.url,
      JSON.stringify({ query: "{ tasks(first: 5) { totalCount edges { node { id } } } }" }),
    );
    expect(cheap.json.errors).toBeUndefined();
  });

  it("applies the same limits to subscriptions", async () => {
    const deep =
      'subscription { taskStatusChanged(id: "x") { children { children { children { children { children { id } } } } } } }';
    await expect(collect(s.wsClient(), deep, {})).rejects.toThrow(/QUERY_TOO_DEEP/);
  });

  it("refuses request bodies over the size limit, and bodies of unknown length", async () => {
    const big = JSON.stringify({ query: `{ executors { id } } # ${"x".repeat(5_000)}` });
    const tooLarge = await post(s.url, big);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json.errors![0]!.extensions!.code).toBe("REQUEST_TOO_LARGE");
    const chunked = await fetch(s.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: "{ executors { id } }" })));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(411);
  });

  it("serves GraphiQL to a browser", async () => {
    const page = await fetch(s.url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/graphiql/i);
  });
});

describe("error masking", () => {
  it("keeps an ApflowError's message and code, with every validation problem", () => {
    const problems = [{ path: "tasks[0].name", code: ErrorCode.VALIDATION_ERROR, message: "is required" }];
    const masked = maskError(
      new GraphQLError("wrapped", {
        originalError: new ApflowError(ErrorCode.VALIDATION_ERROR, "bad tree", { problems }),
      }),
      silentLogger,
    );
    expect(masked.message).toBe("bad tree");
    expect(masked.extensions).toEqual({ code: "VALIDATION_ERROR", problems });
  });

  it("hides unexpected errors behind a generic message", () => {
    const masked = maskError(
      new GraphQLError("wrapped", { originalError: new Error("connection to 10.0.0.5 refused, password=hunter2") }),
      silentLogger,
    );
    expect(masked.message).toBe("Unexpected error.");
    expect(masked.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
  });

  it("passes GraphQL's own errors through with a code", () => {
    const masked = maskError(new GraphQLError('Cannot query field "nope" on type "Query".'), silentLogger);
    expect(masked.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});
