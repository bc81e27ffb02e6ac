/**
 * Bearer-token authentication (APFLOW_API_TOKEN) over real HTTP and WebSocket: with
 * a token configured, GraphQL requests without it or with a wrong one are refused
 * with UNAUTHENTICATED, the right one is served; the webhook route keeps its own
 * (HMAC) authentication.
 */
import { type Client, createClient } from "graphql-ws";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { useTestServer } from "../support/server.js";

const TOKEN = "api-token-for-tests-0123456789";
const QUERY = "{ executors { id } }";

describe("bearer-token authentication", () => {
  const clients: Client[] = [];
  const s = useTestServer("pglite", { apflow: { api: { url: undefined, token: TOKEN } } });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });

  const http = async (authorization?: string) => {
    const response = await fetch(s.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: JSON.stringify({ query: QUERY }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: { executors: { id: string }[] };
        errors?: { message: string; extensions: { code: string } }[];
      },
    };
  };

  /** Runs QUERY over graphql-ws with these connection params; resolves with the result or the close event. */
  const overWebSocket = (connectionParams?: Record<string, unknown>) => {
    const client = createClient({
      url: s.app.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      ...(connectionParams ? { connectionParams } : {}),
    });
    clients.push(client);
    return new Promise<{ data?: unknown; closed?: { code: number; reason: string } }>((resolve) => {
      client.subscribe(
        { query: QUERY },
        {
          next: (value) => resolve({ data: value.data }),
          error: (error) => resolve({ closed: error as { code: number; reason: string } }),
          complete: () => {},
        },
      );
    });
  };

  it("refuses an HTTP request without the token, or with a wrong one, saying what to send", async () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, TOKEN, "Bearer ", `Basic ${TOKEN}`]) {
      const refused = await http(authorization);
      expect(refused.status).toBe(401);
      expect(refused.body.errors![0]!.extensions.code).toBe("UNAUTHENTICATED");
      expect(refused.body.errors![0]!.message).toContain("Authorization: Bearer <APFLOW_API_TOKEN>");
      expect(refused.body.data).toBeUndefined();
    }
  });

  it("serves an HTTP request with the right token", async () => {
    const served = await http(`Bearer ${TOKEN}`);
    expect(served.status).toBe(200);
    expect(served.body.errors).toBeUndefined();
    expect(served.body.data!.executors.length).toBeGreaterThan(0);
  });

  it("serves the GraphiQL page without the token, but not an operation sent as a GET", async () => {
    const page = await fetch(s.url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    const get = await fetch(`${s.url}?query=${encodeURIComponent(QUERY)}`, { headers: { accept: "text/html" } });
    expect(get.status).toBe(401);
    const json = await fetch(s.url, { headers: { accept: "application/json" } });
    expect(json.status).toBe(401);
  });

  it("closes a WebSocket connection without the token, or with a wrong one (4401)", async () => {
    for (const params of [undefined, { authorization: "Bearer wrong-token" }, { authorization: TOKEN }]) {
      const { closed, data } = await overWebSocket(params);
      expect(data).toBeUndefined();
      expect(closed).toMatchObject({ code: 4401, reason: expect.stringContaining("UNAUTHENTICATED") });
    }
  });

  it("serves a WebSocket connection whose connection_init carries the token", async () => {
    const { data, closed } = await overWebSocket({ authorization: `Bearer ${TOKEN}` });
    expect(closed).toBeUndefined();
    expect((data as { executors: unknown[] }).executors.length).toBeGreaterThan(0);
  });

  it("leaves the webhook route to its own signature check", async () => {
    const response = await fetch(`${new URL(s.url).origin}/webhooks/schedules/any`, { method: "POST", body: "{}" });
    // No webhook secret is configured here: the webhook's own answer, not the API token's.
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
  });
});
