import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createGrpcExecutor } from "../../src/executors/grpc.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { selfSignedCert } from "./tls-cert.js";

const PROTO_DIR = path.join(import.meta.dirname, "fixtures", "proto");
const PROTO_PATH = path.join(PROTO_DIR, "greeter.proto");
const SERVICE = "apflow.test.Greeter";

/** What the servers saw, so tests can check what arrived and what was cancelled. */
const seen = { calls: [] as string[], cancelled: [] as string[], hosts: [] as string[] };

type Call<T> = grpc.ServerUnaryCall<T, unknown>;
type Callback = grpc.sendUnaryData<unknown>;
type HelloRequest = { name: string; times: number; mood: string; tags: string[]; options: JsonObject | null };

const greeter: grpc.UntypedServiceImplementation = {
  SayHello(call: Call<HelloRequest>, callback: Callback) {
    seen.calls.push("SayHello");
    seen.hosts.push(call.getHost());
    const { name, times, mood, tags, options } = call.request;
    callback(null, {
      message: `Hello ${name}`.repeat(Math.max(times, 1)),
      big_number: "9007199254740993", // 2^53 + 1: only exact as a string
      mood,
      tags,
      data: Buffer.from("hi"),
      options,
    });
  },
  Fail(call: Call<{ code: number; details: string }>, callback: Callback) {
    seen.calls.push("Fail");
    callback({ code: call.request.code, details: call.request.details });
  },
  Slow(call: Call<{ delay_ms: number }>, callback: Callback) {
    seen.calls.push("Slow");
    const timer = setTimeout(() => callback(null, { message: "finally" }), call.request.delay_ms);
    call.on("cancelled", () => {
      clearTimeout(timer);
      seen.cancelled.push("Slow");
    });
  },
  EchoMetadata(call: Call<HelloRequest>, callback: Callback) {
    seen.calls.push("EchoMetadata");
    const metadata: Record<string, string> = {};
    for (const key of Object.keys(call.metadata.getMap())) {
      metadata[key] = call.metadata
        .get(key)
        .map((v) => (Buffer.isBuffer(v) ? `bin:${v.toString("utf8")}` : v))
        .join(",");
    }
    callback(null, { metadata });
  },
  Watch(call: grpc.ServerWritableStream<HelloRequest, unknown>) {
    call.end();
  },
};

interface Peer {
  server: grpc.Server;
  port: number;
}

async function startPeer(options: { reflection: boolean | "v1alpha"; tls?: boolean }): Promise<Peer> {
  const definition = await protoLoader.load(PROTO_PATH, {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    apflow: { test: { Greeter: grpc.ServiceClientConstructor } };
  };
  const server = new grpc.Server();
  server.addService(loaded.apflow.test.Greeter.service, greeter);
  if (options.reflection === "v1alpha") {
    // An older server: only the v1alpha reflection service (ReflectionService adds both).
    new ReflectionService(definition).addToServer({
      addService: (service, implementation) => {
        if (Object.values(service)[0]!.path.includes(".v1alpha.")) server.addService(service, implementation);
      },
    });
  } else if (options.reflection) {
    new ReflectionService(definition).addToServer(server);
  }
  const { key, cert } = selfSignedCert();
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(key), cert_chain: Buffer.from(cert) }])
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, port };
}

let peer: Peer;
let bare: Peer;
let secure: Peer;
let alpha: Peer;

beforeAll(async () => {
  [peer, bare, secure, alpha] = await Promise.all([
    startPeer({ reflection: true }),
    startPeer({ reflection: false }),
    startPeer({ reflection: true, tls: true }),
    startPeer({ reflection: "v1alpha" }),
  ]);
});
afterAll(() => {
  for (const { server } of [peer, bare, secure, alpha]) server.forceShutdown();
});

// These tests talk to loopback servers, which the guard refuses by default (tested below).
const grpcExecutor = createGrpcExecutor({ allowPrivateUrls: true });

/** Inputs for a plaintext call to the reflection-enabled peer. */
function call(method: string, request: JsonObject = {}, more: JsonObject = {}): JsonObject {
  return { address: `127.0.0.1:${peer.port}`, service: SERVICE, method, request, tls: false, ...more };
}

const withProto = { protoPath: "greeter.proto", includeDirs: [PROTO_DIR] };

async function run(inputs: JsonObject, ctx = fakeContext()): Promise<JsonObject> {
  return (await grpcExecutor.execute(inputs, ctx)) as JsonObject;
}

async function failure(inputs: JsonObject, executor = grpcExecutor, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

const hello = { name: "Ada", times: 2, mood: "HAPPY", tags: ["a", "b"], options: { shout: true, suffix_text: "!" } };
const expectedReply = {
  message: "Hello AdaHello Ada",
  big_number: "9007199254740993",
  mood: "HAPPY",
  flag: false,
  tags: ["a", "b"],
  data: Buffer.from("hi").toString("base64"),
  options: { shout: true, suffix_text: "!" },
};

describe("grpc_executor calls", () => {
  it("makes a unary call from a .proto file: enums and longs as strings, defaults included", async () => {
    expect(await run(call("SayHello", hello, withProto))).toEqual(expectedReply);
  });

  it("makes the same call through server reflection, without a .proto file", async () => {
    expect(await run(call("SayHello", hello))).toEqual(expectedReply);
  });

  it("accepts lowerCamelCase field names and fills defaults of an empty reply", async () => {
    const result = await run(call("SayHello", { name: "Bo", options: { suffixText: "?" } }));
    expect(result).toMatchObject({ message: "Hello Bo", mood: "MOOD_UNSPECIFIED", tags: [] });
    expect(result.options).toEqual({ shout: false, suffix_text: "?" });
  });

  it("sends metadata, several values and -bin keys included", async () => {
    const result = await run(
      call(
        "EchoMetadata",
        {},
        {
          metadata: { "x-trace": "t-1", "x-multi": ["a", "b"], "x-data-bin": Buffer.from("raw").toString("base64") },
        },
      ),
    );
    expect(result.metadata).toMatchObject({ "x-trace": "t-1", "x-multi": "a, b", "x-data-bin": "bin:raw" });
  });

  it("turns an error status into EXECUTOR_FAILED with the code name", async () => {
    const error = await failure(call("Fail", { code: grpc.status.NOT_FOUND, details: "no such greeting" }));
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe(`${SERVICE}/Fail failed with NOT_FOUND: no such greeting`);
    expect(error.details).toMatchObject({ grpcCode: "NOT_FOUND", grpcStatus: 5, grpcDetails: "no such greeting" });
  });

  it("turns DEADLINE_EXCEEDED into TIMEOUT", async () => {
    const started = performance.now();
    const error = await failure(call("Slow", { delay_ms: 5000 }, { ...withProto, deadlineMs: 300 }));
    expect(error.code).toBe("TIMEOUT");
    expect(error.details).toMatchObject({ grpcCode: "DEADLINE_EXCEEDED" });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("cancels the call on abort, with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new ApflowError("CANCELLED", "task cancelled");
    const cancelledBefore = seen.cancelled.length;
    setTimeout(() => controller.abort(reason), 300);
    const started = performance.now();
    const error = await caught(() =>
      grpcExecutor.execute(call("Slow", { delay_ms: 10_000 }), fakeContext({ signal: controller.signal })),
    );
    expect(error).toBe(reason);
    expect(performance.now() - started).toBeLessThan(3000);
    await expect.poll(() => seen.cancelled.length).toBe(cancelledBefore + 1);
  });
});

describe("grpc_executor service lookup", () => {
  it("says when the server has no reflection", async () => {
    const error = await failure({ ...call("SayHello", hello), address: `127.0.0.1:${bare.port}` });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("does not offer gRPC server reflection");
    expect(error.message).toContain("protoPath");
    // With the .proto file, the same server answers.
    expect(await run({ ...call("SayHello", hello, withProto), address: `127.0.0.1:${bare.port}` })).toEqual(
      expectedReply,
    );
  });

  it("falls back to v1alpha reflection", async () => {
    expect(await run({ ...call("SayHello", hello), address: `127.0.0.1:${alpha.port}` })).toEqual(expectedReply);
  });

  it("lists the services the server offers for an unknown one", async () => {
    const error = await failure({ ...call("SayHello"), service: "apflow.test.Nope" });
    expect(error.message).toBe(`the server does not offer service apflow.test.Nope (it offers: ${SERVICE})`);
  });

  it("lists the methods for an unknown one, and refuses streaming methods", async () => {
    const unknown = await failure(call("SayGoodbye", {}, withProto));
    expect(unknown.message).toContain("methods: SayHello, Fail, Slow, EchoMetadata, Watch");
    const streaming = await failure(call("Watch"));
    expect(streaming.message).toContain("streaming method");
  });

  it("fails clearly on a missing .proto file", async () => {
    const error = await failure(call("SayHello", {}, { protoPath: path.join(PROTO_DIR, "missing.proto") }));
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("could not load protoPath");
  });
});

describe("grpc_executor request check", () => {
  it("rejects unknown fields and wrong types before calling", async () => {
    const before = seen.calls.length;
    const error = await failure(
      call("SayHello", {
        nmae: "typo",
        times: "often",
        mood: "ELATED",
        tags: "one",
        options: { shout: "yes", color: "red" },
        extra_options: { a: { suffix_text: 1 } },
      }),
    );
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.request.extra_options.a.suffix_text",
      "inputs.request.mood",
      "inputs.request.nmae",
      "inputs.request.options.color",
      "inputs.request.options.shout",
      "inputs.request.tags",
      "inputs.request.times",
    ]);
    expect(error.message).toContain("is not a field of apflow.test.HelloRequest (fields: name, times, mood");
    expect(error.message).toContain("must be one of MOOD_UNSPECIFIED, HAPPY, GRUMPY");
    expect(seen.calls.length).toBe(before);
  });

  it("accepts 64-bit and enum numbers and maps of messages", async () => {
    const result = await run(call("SayHello", { name: "x", mood: 2, extra_options: { k: { shout: true } } }));
    expect(result.mood).toBe("GRUMPY");
  });
});

describe("grpc_executor TLS", () => {
  const address = () => `localhost:${secure.port}`;

  it("refuses a self-signed certificate by default, with a hint", async () => {
    const error = await failure({ address: address(), service: SERVICE, method: "SayHello", request: hello });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.details).toMatchObject({ grpcCode: "UNAVAILABLE" });
    expect(error.message).toContain("insecure: true");
  });

  it("accepts it with insecure: true", async () => {
    const result = await run({
      address: address(),
      service: SERVICE,
      method: "SayHello",
      request: hello,
      insecure: true,
    });
    expect(result).toEqual(expectedReply);
  });
});

describe("grpc_executor guard and inputs", () => {
  const guarded = createGrpcExecutor();

  it.each([
    ["127.0.0.1", () => `127.0.0.1:${peer.port}`],
    ["localhost", () => `localhost:${peer.port}`],
    ["::1", () => `[::1]:${peer.port}`],
  ])("refuses %s without contacting it", async (_name, address) => {
    const before = seen.calls.length;
    const error = await failure({ ...call("SayHello", hello), address: address() }, guarded);
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("grpc_executor refused");
    expect(error.message).toContain("APFLOW_GRPC_ALLOW_PRIVATE_URLS=1");
    expect(seen.calls.length).toBe(before);
  });

  it("lets allowedHosts through, pinned to the checked address with the host as authority", async () => {
    let resolutions = 0;
    const exempt = createGrpcExecutor({
      allowedHosts: ["greeter.example.test"],
      resolve: async () => {
        resolutions++;
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    const result = (await exempt.execute(
      { ...call("SayHello", hello), address: `greeter.example.test:${peer.port}` },
      fakeContext(),
    )) as JsonObject;
    expect(result).toEqual(expectedReply);
    expect(seen.hosts.at(-1)).toBe(`greeter.example.test:${peer.port}`);
    expect(resolutions).toBe(1);
  });

  it("times out and cancels promptly while DNS hangs", async () => {
    const hanging = createGrpcExecutor({ resolve: () => new Promise(() => {}) });
    const inputs = { address: "slow.example.test:443", service: SERVICE, method: "SayHello" };
    const timedOut = await failure({ ...inputs, deadlineMs: 100 }, hanging);
    expect(timedOut.code).toBe("TIMEOUT");
    const controller = new AbortController();
    const reason = new Error("cancelled");
    setTimeout(() => controller.abort(reason), 50);
    expect(await caught(() => hanging.execute(inputs, fakeContext({ signal: controller.signal })))).toBe(reason);
  });

  it("never puts metadata values in errors or logs", async () => {
    const ctx = fakeContext();
    const error = await failure(
      call(
        "Fail",
        { code: grpc.status.PERMISSION_DENIED, details: "denied" },
        {
          metadata: { authorization: "Bearer s3cr3t-t0ken" },
        },
      ),
      grpcExecutor,
      ctx,
    );
    const shown = JSON.stringify({ message: error.message, details: error.details, logs: ctx.logs });
    expect(shown).not.toContain("s3cr3t-t0ken");
  });

  it("lists every invalid input at once", async () => {
    const error = await failure({
      address: "http://example.com",
      service: "not a service",
      protoPath: "/etc/passwd",
      tls: false,
      insecure: true,
      metadata: { "Bad Key": "x", "x-n": 1 },
      deadlineMs: 0,
    });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.address",
      "inputs.deadlineMs",
      "inputs.insecure",
      "inputs.metadata.Bad Key",
      "inputs.metadata.x-n",
      "inputs.method",
      "inputs.protoPath",
      "inputs.service",
    ]);
  });

  it("has a strict input schema", () => {
    expect(grpcExecutor.id).toBe("grpc_executor");
    expect(grpcExecutor.inputSchema).toMatchObject({
      type: "object",
      required: ["address", "service", "method"],
      additionalProperties: false,
    });
  });
});
