import { once } from "node:events";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createWebSocketExecutor, type WebSocketResult } from "../../src/executors/websocket.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { selfSignedCert } from "./tls-cert.js";

interface Seen {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  messages: string[];
  /** Set when the connection has closed, with the close code the server saw. */
  closeCode: number | null;
}

/** A real ws server on loopback: each path is one behaviour; every connection is recorded. */
function behave(socket: WebSocket, url: URL): void {
  const param = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
  socket.on("message", (data, isBinary) => {
    const text = data.toString();
    switch (url.pathname) {
      case "/echo":
        socket.send(data, { binary: isBinary });
        return;
      case "/json":
        socket.send(JSON.stringify({ got: text, n: 1 }));
        return;
      case "/delay":
        setTimeout(() => socket.send(`late ${text}`), param("ms", 100));
        return;
      case "/multi":
        for (let i = 1; i <= param("n", 3); i++) socket.send(JSON.stringify({ i }));
        return;
      case "/close":
        socket.send("one");
        socket.close(4000, "going away now");
        return;
      case "/binary":
        socket.send(Buffer.from([0, 1, 2, 255]), { binary: true });
        return;
      case "/big":
        socket.send("x".repeat(param("bytes", 2000)));
        return;
      default: // /silent: never answers
        return;
    }
  });
}

let server: WebSocketServer;
let tlsServer: HttpsServer;
let tlsWss: WebSocketServer;
let origin: string;
let tlsOrigin: string;
let port: number;
const seen: Seen[] = [];

function record(wss: WebSocketServer): void {
  wss.on("connection", (socket, request) => {
    const url = new URL(request.url ?? "/", "ws://peer");
    const entry: Seen = { path: url.pathname, headers: request.headers, messages: [], closeCode: null };
    seen.push(entry);
    socket.on("message", (data) => entry.messages.push(data.toString()));
    socket.on("close", (code) => {
      entry.closeCode = code;
    });
    if (url.pathname === "/greet") socket.send("welcome");
    behave(socket, url);
  });
}

beforeAll(async () => {
  server = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: (protocols) => (protocols.has("apflow.v2") ? "apflow.v2" : false),
    verifyClient: (info, done) =>
      info.req.url?.startsWith("/forbidden") ? done(false, 401, "Unauthorized") : done(true),
  });
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
  origin = `ws://127.0.0.1:${port}`;
  record(server);

  tlsServer = createHttpsServer(selfSignedCert());
  tlsWss = new WebSocketServer({ server: tlsServer });
  record(tlsWss);
  tlsServer.listen(0, "127.0.0.1");
  await once(tlsServer, "listening");
  tlsOrigin = `wss://localhost:${(tlsServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const client of [...server.clients, ...tlsWss.clients]) client.terminate();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => tlsWss.close(resolve));
  await new Promise((resolve) => tlsServer.close(resolve));
});

// These tests talk to loopback servers, which the guard refuses by default (tested below).
const websocket = createWebSocketExecutor({ allowPrivateUrls: true });

async function exchange(inputs: JsonObject, ctx = fakeContext()): Promise<WebSocketResult> {
  return (await websocket.execute(inputs, ctx)) as WebSocketResult;
}

async function failure(inputs: JsonObject, executor = websocket, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

/** The server's record of the most recent connection to `path`. */
function lastSeen(path: string): Seen {
  const entry = seen.filter((s) => s.path === path).at(-1);
  expect(entry).toBeDefined();
  return entry!;
}

describe("websocket_executor exchanges", () => {
  it("sends text and returns the echoed reply", async () => {
    const result = await exchange({ url: `${origin}/echo`, message: "hello" });
    expect(result.replies).toEqual(["hello"]);
    expect(result.protocol).toBeNull();
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    await expect.poll(() => lastSeen("/echo").closeCode).toBe(1000);
  });

  it("sends a JSON value as JSON text and parses JSON replies", async () => {
    const result = await exchange({ url: `${origin}/echo`, message: { a: [1, 2], b: null } });
    expect(result.replies).toEqual([{ a: [1, 2], b: null }]);
    expect(lastSeen("/echo").messages).toEqual(['{"a":[1,2],"b":null}']);
    expect((await exchange({ url: `${origin}/json`, message: "x" })).replies).toEqual([{ got: "x", n: 1 }]);
  });

  it("keeps JSON text as a string with parseJson: false", async () => {
    const result = await exchange({ url: `${origin}/echo`, message: { a: 1 }, parseJson: false });
    expect(result.replies).toEqual(['{"a":1}']);
  });

  it("waits for a delayed reply", async () => {
    const result = await exchange({ url: `${origin}/delay?ms=300`, message: "ping" });
    expect(result.replies).toEqual(["late ping"]);
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
  });

  it("collects expectMessages messages, with progress", async () => {
    const ctx = fakeContext();
    const result = await exchange({ url: `${origin}/multi?n=3`, message: "go", expectMessages: 3 }, ctx);
    expect(result.replies).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    expect(ctx.progress.map((p) => p.progress)).toEqual([1 / 3, 2 / 3, 1]);
  });

  it("counts messages the server sends before ours, and can only listen", async () => {
    expect((await exchange({ url: `${origin}/greet`, expectMessages: 1 })).replies).toEqual(["welcome"]);
    expect(lastSeen("/greet").messages).toEqual([]);
  });

  it("sends without waiting when waitForReply is false", async () => {
    const result = await exchange({ url: `${origin}/silent`, message: "fire and forget", waitForReply: false });
    expect(result.replies).toEqual([]);
    await expect.poll(() => lastSeen("/silent").messages).toEqual(["fire and forget"]);
  });

  it("sends headers and subprotocols, returning the server's choice", async () => {
    const result = await exchange({
      url: `${origin}/echo`,
      message: "x",
      headers: { "X-Trace": "t-1", Authorization: "Bearer sekrit" },
      subprotocols: ["apflow.v1", "apflow.v2"],
    });
    expect(result.protocol).toBe("apflow.v2");
    const { headers } = lastSeen("/echo");
    expect(headers["x-trace"]).toBe("t-1");
    expect(headers.authorization).toBe("Bearer sekrit");
  });

  it("returns binary frames as base64", async () => {
    const result = await exchange({ url: `${origin}/binary`, message: "bytes?" });
    expect(result.replies).toEqual([Buffer.from([0, 1, 2, 255]).toString("base64")]);
  });
});

describe("websocket_executor failures", () => {
  it("fails when the server closes before the replies arrive", async () => {
    const error = await failure({ url: `${origin}/close`, message: "x", expectMessages: 2 });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("closed the connection (code 4000: going away now) after 1 of 2");
    expect(error.details).toMatchObject({ closeCode: 4000, received: 1 });
  });

  it("times out waiting for replies and closes the socket", async () => {
    const error = await failure({ url: `${origin}/silent`, message: "x", replyTimeoutMs: 200 });
    expect(error.code).toBe("TIMEOUT");
    expect(error.details).toMatchObject({ received: 0, expected: 1 });
    await expect.poll(() => lastSeen("/silent").closeCode).not.toBeNull();
  });

  it("aborts mid-wait with the signal's reason and closes the socket", async () => {
    const controller = new AbortController();
    const reason = new ApflowError("CANCELLED", "task cancelled");
    const before = seen.length;
    setTimeout(() => controller.abort(reason), 200);
    const started = performance.now();
    const error = await caught(() =>
      websocket.execute({ url: `${origin}/silent`, message: "x" }, fakeContext({ signal: controller.signal })),
    );
    expect(error).toBe(reason);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(seen.length).toBe(before + 1);
    await expect.poll(() => lastSeen("/silent").closeCode).not.toBeNull();
  });

  it("fails on a refused handshake with its HTTP status", async () => {
    const error = await failure({ url: `${origin}/forbidden`, message: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("HTTP 401");
  });

  it("fails on a connection error", async () => {
    const closed = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(closed, "listening");
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure({ url: `ws://127.0.0.1:${freePort}/`, message: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("fails on a message larger than maxMessageBytes", async () => {
    const error = await failure({ url: `${origin}/big?bytes=5000`, message: "x", maxMessageBytes: 1000 });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("larger than maxMessageBytes (1000 bytes)");
  });

  it("never puts header values or URL credentials in errors", async () => {
    const error = await failure({
      url: `ws://user:pa55word@127.0.0.1:${port}/forbidden?token=qs-secret`,
      message: "x",
      headers: { Authorization: "Bearer sekrit" },
    });
    const shown = JSON.stringify({ message: error.message, details: error.details });
    for (const secret of ["pa55word", "qs-secret", "sekrit"]) expect(shown).not.toContain(secret);
  });
});

describe("websocket_executor TLS", () => {
  it("refuses a self-signed certificate by default, with a hint", async () => {
    const error = await failure({ url: `${tlsOrigin}/echo`, message: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("verifyTls: false");
  });

  it("accepts it with verifyTls: false", async () => {
    expect((await exchange({ url: `${tlsOrigin}/echo`, message: "secure", verifyTls: false })).replies).toEqual([
      "secure",
    ]);
  });
});

describe("websocket_executor guard and inputs", () => {
  const guarded = createWebSocketExecutor();

  it.each([
    ["127.0.0.1", () => `ws://127.0.0.1:${port}/echo`],
    ["localhost", () => `ws://localhost:${port}/echo`],
    ["::1", () => `ws://[::1]:${port}/echo`],
  ])("refuses %s without contacting it", async (_name, url) => {
    const before = seen.length;
    const error = await failure({ url: url(), message: "x" }, guarded);
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("websocket_executor refused");
    expect(error.message).toContain("APFLOW_WEBSOCKET_ALLOW_PRIVATE_URLS=1");
    expect(seen.length).toBe(before);
  });

  it("lets allowedHosts through, pinned to the checked address", async () => {
    let resolutions = 0;
    const exempt = createWebSocketExecutor({
      allowedHosts: ["chat.example.test"],
      resolve: async () => {
        resolutions++;
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    const result = (await exempt.execute(
      { url: `ws://chat.example.test:${port}/echo`, message: "pinned" },
      fakeContext(),
    )) as WebSocketResult;
    expect(result.replies).toEqual(["pinned"]);
    expect(lastSeen("/echo").headers.host).toBe(`chat.example.test:${port}`);
    expect(resolutions).toBe(1);
  });

  it("cancels promptly while DNS hangs", async () => {
    const hanging = createWebSocketExecutor({ resolve: () => new Promise(() => {}) });
    const timedOut = await failure({ url: "ws://slow.example.test/", message: "x", connectTimeoutMs: 100 }, hanging);
    expect(timedOut.code).toBe("TIMEOUT");
    const controller = new AbortController();
    const reason = new Error("cancelled");
    setTimeout(() => controller.abort(reason), 50);
    const error = await caught(() =>
      hanging.execute({ url: "ws://slow.example.test/", message: "x" }, fakeContext({ signal: controller.signal })),
    );
    expect(error).toBe(reason);
  });

  it("lists every invalid input at once", async () => {
    const error = await failure({
      url: "http://example.com/",
      subprotocols: ["a b"],
      waitForReply: false,
      expectMessages: 0,
      replyTimeoutMs: "soon",
    });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.expectMessages",
      "inputs.message",
      "inputs.replyTimeoutMs",
      "inputs.subprotocols",
      "inputs.url",
    ]);
  });

  it("has a strict input schema", () => {
    expect(websocket.id).toBe("websocket_executor");
    expect(websocket.inputSchema).toMatchObject({ type: "object", required: ["url"], additionalProperties: false });
  });
});
