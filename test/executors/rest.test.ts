import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createRestExecutor, type RestResult } from "../../src/executors/rest.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { type Peer, startHttpPeer, startHttpsPeer } from "./http-peer.js";

let peer: Peer;
let other: Peer;
let tls: Peer;

beforeAll(async () => {
  [peer, other, tls] = await Promise.all([startHttpPeer(), startHttpPeer(), startHttpsPeer()]);
});
afterAll(async () => {
  await Promise.all([peer.close(), other.close(), tls.close()]);
});

// These tests talk to loopback servers, which the guard refuses by default (tested below).
const rest = createRestExecutor({ allowPrivateUrls: true });

async function request(inputs: JsonObject, ctx = fakeContext()): Promise<RestResult> {
  return (await rest.execute(inputs, ctx)) as RestResult;
}

async function failure(inputs: JsonObject, executor = rest, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

type Echo = { method: string; headers: Record<string, string>; query: [string, string][]; body: string };

describe("rest_executor requests", () => {
  it("GETs JSON and parses it", async () => {
    const result = await request({ url: `${peer.origin}/json` });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ hello: "world", n: 1 });
    expect(result.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("returns text for non-JSON content types and parses +json types", async () => {
    expect((await request({ url: `${peer.origin}/text` })).body).toBe("plain text");
    expect((await request({ url: `${peer.origin}/problem-json` })).body).toEqual({ ok: true });
    expect((await request({ url: `${peer.origin}/empty` })).body).toBe("");
  });

  it("sends a JSON body with its content type", async () => {
    const result = await request({ url: `${peer.origin}/echo`, method: "POST", json: { a: [1, 2], b: null } });
    const echo = result.body as Echo;
    expect(echo.method).toBe("POST");
    expect(echo.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(echo.body)).toEqual({ a: [1, 2], b: null });
  });

  it("sends a form body, repeating array values", async () => {
    const result = await request({
      url: `${peer.origin}/echo`,
      method: "PUT",
      form: { name: "a b", tag: ["x", "y"], n: 3 },
    });
    const echo = result.body as Echo;
    expect(echo.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(echo.body).toBe("name=a+b&tag=x&tag=y&n=3");
  });

  it("sends a raw body with the caller's content type and headers", async () => {
    const result = await request({
      url: `${peer.origin}/echo`,
      method: "patch",
      body: "<x/>",
      headers: { "Content-Type": "application/xml", "X-Trace": "t-1", "User-Agent": "mine" },
    });
    const echo = result.body as Echo;
    expect(echo.method).toBe("PATCH");
    expect(echo.body).toBe("<x/>");
    expect(echo.headers["content-type"]).toBe("application/xml");
    expect(echo.headers["x-trace"]).toBe("t-1");
    expect(echo.headers["user-agent"]).toBe("mine");
  });

  it("appends query parameters to the URL's own", async () => {
    const result = await request({ url: `${peer.origin}/echo?a=1`, query: { b: 2, c: ["x", "y"], d: true } });
    expect((result.body as Echo).query).toEqual([
      ["a", "1"],
      ["b", "2"],
      ["c", "x"],
      ["c", "y"],
      ["d", "true"],
    ]);
  });

  it("decodes a gzip-encoded body", async () => {
    expect((await request({ url: `${peer.origin}/gzip` })).body).toEqual({ compressed: true });
  });
});

describe("rest_executor auth", () => {
  const echoOf = async (auth: JsonObject, url = `${peer.origin}/echo`) => (await request({ url, auth })).body as Echo;

  it("sends a bearer token, replacing an Authorization header", async () => {
    const url = `${peer.origin}/echo`;
    const result = await request({ url, headers: { Authorization: "old" }, auth: { type: "bearer", token: "tok" } });
    expect((result.body as Echo).headers.authorization).toBe("Bearer tok");
  });

  it("sends basic credentials", async () => {
    const echo = await echoOf({ type: "basic", username: "ann", password: "p:w" });
    expect(echo.headers.authorization).toBe(`Basic ${Buffer.from("ann:p:w").toString("base64")}`);
  });

  it("sends an API key in a header or in the query", async () => {
    expect((await echoOf({ type: "apiKey", value: "k1" })).headers["x-api-key"]).toBe("k1");
    expect((await echoOf({ type: "apiKey", value: "k2", header: "X-Token" })).headers["x-token"]).toBe("k2");
    expect((await echoOf({ type: "apiKey", value: "k3", in: "query" })).query).toEqual([["api_key", "k3"]]);
    expect((await echoOf({ type: "apiKey", value: "k4", in: "query", name: "key" })).query).toEqual([["key", "k4"]]);
  });
});

describe("rest_executor status handling", () => {
  it("fails on a non-2xx status with the status and a redacted body excerpt", async () => {
    const error = await failure({ url: `${peer.origin}/status?code=500&api_key=hidden` });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe(`GET ${peer.origin}/status returned HTTP 500`);
    expect(error.details).toMatchObject({ status: 500, url: `${peer.origin}/status` });
    expect(error.details?.body).toBe('{"error":"boom","token":"[REDACTED]"}');
    expect(error.message).not.toContain("hidden");
  });

  it("returns error statuses when allowErrorStatus is set", async () => {
    const result = await request({ url: `${peer.origin}/status?code=503`, allowErrorStatus: true });
    expect(result.status).toBe(503);
    expect(result.body).toEqual({ error: "boom", token: "server-secret-token" });
  });

  it("accepts exactly the expected statuses when expectStatus is set", async () => {
    expect((await request({ url: `${peer.origin}/status?code=404`, expectStatus: [404, 410] })).status).toBe(404);
    const error = await failure({ url: `${peer.origin}/json`, expectStatus: 201 });
    expect(error.message).toContain("returned HTTP 200 (expected 201)");
  });
});

describe("rest_executor timeouts and cancellation", () => {
  it("fails with TIMEOUT and closes the connection", async () => {
    const started = Date.now();
    const error = await failure({ url: `${peer.origin}/slow?ms=5000&t=timeout`, timeoutMs: 200 });
    expect(error.code).toBe("TIMEOUT");
    expect(Date.now() - started).toBeLessThan(3000);
    await expect.poll(() => peer.requests.find((r) => r.path.includes("t=timeout"))?.closedEarly).toBe(true);
  });

  it("times out while reading a body that never ends", async () => {
    const error = await failure({ url: `${peer.origin}/slow-body`, timeoutMs: 200 });
    expect(error.code).toBe("TIMEOUT");
  });

  it("rejects with the signal's reason when the task is cancelled", async () => {
    const controller = new AbortController();
    const reason = new ApflowError("CANCELLED", "cancelled by test");
    const pending = rest.execute(
      { url: `${peer.origin}/slow?ms=5000&t=abort` },
      fakeContext({ signal: controller.signal }),
    );
    await expect.poll(() => peer.requests.some((r) => r.path.includes("t=abort"))).toBe(true);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect.poll(() => peer.requests.find((r) => r.path.includes("t=abort"))?.closedEarly).toBe(true);
  });

  it("does not start when the signal is already aborted", async () => {
    const before = peer.requests.length;
    const reason = new Error("shutdown");
    const error = await caught(() =>
      rest.execute({ url: `${peer.origin}/json` }, fakeContext({ signal: AbortSignal.abort(reason) })),
    );
    expect(error).toBe(reason);
    expect(peer.requests.length).toBe(before);
  });
});

describe("rest_executor redirects", () => {
  it("follows a redirect", async () => {
    const result = await request({ url: `${peer.origin}/redirect?to=/json` });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ hello: "world", n: 1 });
  });

  it("turns POST into GET on 303 and keeps it on 307", async () => {
    const see = await request({ url: `${peer.origin}/redirect?status=303&to=/echo`, method: "POST", json: { a: 1 } });
    expect(see.body).toMatchObject({ method: "GET", body: "" });
    const keep = await request({ url: `${peer.origin}/redirect?status=307&to=/echo`, method: "POST", json: { a: 1 } });
    expect(keep.body).toMatchObject({ method: "POST", body: '{"a":1}' });
  });

  it("drops credentials when a redirect leaves the origin", async () => {
    const target = encodeURIComponent(`${other.origin}/echo`);
    const result = await request({
      url: `${peer.origin}/redirect?to=${target}`,
      headers: { Cookie: "c=1", "X-Other": "kept" },
      auth: { type: "apiKey", value: "k", header: "X-Key" },
    });
    const echo = result.body as Echo;
    expect(echo.headers.cookie).toBeUndefined();
    expect(echo.headers["x-key"]).toBeUndefined();
    expect(echo.headers["x-other"]).toBe("kept");
  });

  it("keeps credentials on a same-origin redirect", async () => {
    const result = await request({ url: `${peer.origin}/redirect?to=/echo`, auth: { type: "bearer", token: "t" } });
    expect((result.body as Echo).headers.authorization).toBe("Bearer t");
  });

  it("gives up after 5 redirects", async () => {
    const error = await failure({ url: `${peer.origin}/loop` });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("too many redirects");
  });

  it("returns the 3xx response itself when followRedirects is false", async () => {
    const error = await failure({ url: `${peer.origin}/redirect?to=/json`, followRedirects: false });
    expect(error.details?.status).toBe(302);
    const result = await request({
      url: `${peer.origin}/redirect?to=/json`,
      followRedirects: false,
      expectStatus: 302,
    });
    expect(result.headers.location).toBe("/json");
  });
});

describe("rest_executor response size", () => {
  it("accepts a body up to maxResponseBytes", async () => {
    const result = await request({ url: `${peer.origin}/large?bytes=100000`, maxResponseBytes: 100_000 });
    expect((result.body as string).length).toBe(100_000);
  });

  it("fails on a larger body, declared or chunked", async () => {
    const declared = await failure({ url: `${peer.origin}/large?bytes=100001`, maxResponseBytes: 100_000 });
    expect(declared.message).toContain("larger than maxResponseBytes (100000 bytes)");
    const chunked = await failure({ url: `${peer.origin}/large?bytes=20000000&chunked=1` });
    expect(chunked.message).toContain(`larger than maxResponseBytes (${10 * 1024 * 1024} bytes)`);
  });
});

describe("rest_executor TLS", () => {
  it("refuses a self-signed certificate by default, naming verifyTls", async () => {
    const error = await failure({ url: `${tls.origin}/json` });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("verifyTls: false");
  });

  it("accepts it with verifyTls: false", async () => {
    const result = await request({ url: `${tls.origin}/json`, verifyTls: false });
    expect(result.body).toEqual({ hello: "world", n: 1 });
  });
});

describe("rest_executor SSRF guard", () => {
  const guarded = createRestExecutor();

  it.each([
    ["127.0.0.1", (p: Peer) => `http://127.0.0.1:${p.port}/json`],
    ["localhost", (p: Peer) => `http://localhost:${p.port}/json`],
    ["::1", (p: Peer) => `http://[::1]:${p.port}/json`],
    ["IPv4-mapped 127.0.0.1", (p: Peer) => `http://[::ffff:127.0.0.1]:${p.port}/json`],
    ["decimal 127.0.0.1", (p: Peer) => `http://2130706433:${p.port}/json`],
  ])("refuses %s without contacting it", async (_name, url) => {
    const before = peer.requests.length;
    const error = await failure({ url: url(peer) }, guarded);
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("APFLOW_REST_ALLOW_PRIVATE_URLS=1");
    expect(peer.requests.length).toBe(before);
  });

  it("re-checks every redirect hop", async () => {
    const exempt = createRestExecutor({ allowedHosts: ["127.0.0.1"] });
    expect((await exempt.execute({ url: `${peer.origin}/json` }, fakeContext())) as RestResult).toMatchObject({
      status: 200,
    });
    const target = encodeURIComponent(`http://localhost:${other.port}/json`);
    const before = other.requests.length;
    const error = await failure({ url: `${peer.origin}/redirect?to=${target}` }, exempt);
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain(`http://localhost:${other.port}`);
    expect(other.requests.length).toBe(before);
  });

  it("connects to the address it checked, not to a second DNS answer", async () => {
    // `.test` names never resolve in DNS: the request can only succeed through the pinned lookup.
    let resolutions = 0;
    const pinned = createRestExecutor({
      allowedHosts: ["api.example.test"],
      resolve: async () => {
        resolutions++;
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    const result = (await pinned.execute(
      { url: `http://api.example.test:${peer.port}/echo` },
      fakeContext(),
    )) as RestResult;
    expect(result.status).toBe(200);
    expect((result.body as Echo).headers.host).toBe(`api.example.test:${peer.port}`);
    expect(resolutions).toBe(1);
  });

  it("times out and cancels promptly while DNS hangs", async () => {
    const hanging = createRestExecutor({ resolve: () => new Promise(() => {}) });
    expect((await failure({ url: "http://slow-dns.example.test/", timeoutMs: 100 }, hanging)).code).toBe("TIMEOUT");
    const reason = new Error("cancelled");
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    const error = await caught(() =>
      hanging.execute({ url: "http://slow-dns.example.test/" }, fakeContext({ signal: controller.signal })),
    );
    expect(error).toBe(reason);
  });

  it("rejects non-http schemes", async () => {
    const error = await failure({ url: "file:///etc/passwd" }, guarded);
    expect(error.code).toBe("VALIDATION_ERROR");
  });
});

describe("rest_executor inputs", () => {
  it("lists every invalid input at once", async () => {
    const error = await failure({
      url: "not a url",
      method: "FETCH",
      json: {},
      body: "x",
      auth: { type: "bearer" },
      timeoutMs: 0,
    });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.auth.token",
      "inputs.body",
      "inputs.method",
      "inputs.timeoutMs",
      "inputs.url",
    ]);
  });

  it("reports a refused connection as EXECUTOR_FAILED", async () => {
    const closed = await startHttpPeer();
    await closed.close();
    const error = await failure({ url: `${closed.origin}/json` });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.details?.code).toBe("ECONNREFUSED");
  });
});
