import { realpathSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createMcpExecutor } from "../../src/executors/mcp.js";
import { isAlive, tsxLoader } from "../support/processes.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { type McpHttpPeer, startMcpHttpPeer } from "./peers/mcp-server.js";

const SERVER = fileURLToPath(new URL("./peers/mcp-server.ts", import.meta.url));
const stdioServer = { transport: "stdio", command: process.execPath, args: ["--import", tsxLoader, SERVER] };

const mcp = createMcpExecutor({ allowStdio: true, killGraceMs: 300 });

let dir: string;
let httpPeer: McpHttpPeer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-mcp-"));
  httpPeer = await startMcpHttpPeer();
});
afterAll(async () => {
  await httpPeer.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(inputs: JsonObject, executor = mcp, ctx = fakeContext()): Promise<JsonObject> {
  return (await executor.execute(inputs, ctx)) as JsonObject;
}

async function failure(inputs: JsonObject, executor = mcp, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

async function serverPid(file: string): Promise<number> {
  let pid = 0;
  await expect
    .poll(async () => (pid = Number(await readFile(file, "utf8").catch(() => "0"))), { timeout: 15_000 })
    .toBeGreaterThan(0);
  return pid;
}

describe("mcp_executor over stdio", () => {
  it("lists tools, then calls them with text and structured results", async () => {
    const listed = await run({ ...stdioServer, operation: "list_tools" });
    const tools = listed.tools as { name: string; inputSchema: JsonObject }[];
    expect(tools.map((t) => t.name)).toEqual(["echo", "add", "fail", "slow", "env", "cwd", "pid", "progress"]);
    expect(tools[0]!.inputSchema).toMatchObject({ type: "object", properties: { text: { type: "string" } } });

    const echo = await run({ ...stdioServer, operation: "call_tool", tool: "echo", arguments: { text: "hi" } });
    expect(echo).toEqual({
      content: [{ type: "text", text: "echo: hi" }],
      structuredContent: null,
      text: "echo: hi",
    });
    const add = await run({ ...stdioServer, operation: "call_tool", tool: "add", arguments: { a: 2, b: 3 } });
    expect(add.structuredContent).toEqual({ sum: 5 });
  });

  it("lists and reads resources", async () => {
    const listed = await run({ ...stdioServer, operation: "list_resources" });
    expect((listed.resources as { uri: string }[]).map((r) => r.uri)).toEqual(["memo://greeting", "memo://data.json"]);
    const read = await run({ ...stdioServer, operation: "read_resource", uri: "memo://greeting" });
    expect(read).toEqual({
      contents: [{ uri: "memo://greeting", mimeType: "text/plain", text: "hello from the peer" }],
      text: "hello from the peer",
    });
  });

  it("fails the task when the tool reports an error", async () => {
    const error = await failure({ ...stdioServer, operation: "call_tool", tool: "fail" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe('mcp_executor: tool "fail" reported an error: the tool broke on purpose');
    expect(error.details?.content).toEqual([{ type: "text", text: "the tool broke on purpose" }]);
  });

  it("passes env and cwd, and nothing else of the node's environment", async () => {
    process.env.APFLOW_TEST_NODE_ONLY = "node-private";
    try {
      const ctx = fakeContext();
      const inputs = {
        ...stdioServer,
        env: { SERVICE_API_KEY: "sk-mcp-secret-123" },
        cwd: dir,
        operation: "call_tool",
      };
      const env = await run({ ...inputs, tool: "env", arguments: { name: "SERVICE_API_KEY" } }, mcp, ctx);
      expect(env.text).toBe("sk-mcp-secret-123");
      const nodeOnly = await run({ ...inputs, tool: "env", arguments: { name: "APFLOW_TEST_NODE_ONLY" } });
      expect(nodeOnly.text).toBe("<unset>");
      const cwd = await run({ ...inputs, tool: "cwd" });
      expect(cwd.text).toBe(realpathSync(dir));
      expect(JSON.stringify(ctx.logs)).not.toContain("sk-mcp-secret-123");
    } finally {
      delete process.env.APFLOW_TEST_NODE_ONLY;
    }
  });

  it("reports the server's progress notifications", async () => {
    const ctx = fakeContext();
    const result = await run({ ...stdioServer, operation: "call_tool", tool: "progress" }, mcp, ctx);
    expect(result.text).toBe("progressed");
    expect(ctx.progress).toEqual([
      { progress: 0.25, message: "step 1" },
      { progress: 0.5, message: "step 2" },
      { progress: 0.75, message: "step 3" },
    ]);
  });

  it("stops the server when the task is cancelled", async () => {
    const pidFile = path.join(dir, "cancel.pid");
    const controller = new AbortController();
    const pending = run(
      {
        ...stdioServer,
        env: { MCP_PID_FILE: pidFile },
        operation: "call_tool",
        tool: "slow",
        arguments: { ms: 30_000 },
      },
      mcp,
      fakeContext({ signal: controller.signal }),
    );
    const pid = await serverPid(pidFile);
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the call reach the tool
    const reason = new ApflowError("CANCELLED", "cancelled by test");
    controller.abort(reason);
    expect(await caught(() => pending)).toBe(reason);
    // The task ends only once its server is gone.
    expect(isAlive(pid)).toBe(false);
  });

  it("times out, stopping the server's whole process group", async () => {
    // A server that never answers, ignores SIGTERM and has started a child of its own.
    const pidFile = path.join(dir, "timeout.pids");
    const script =
      "const { spawn } = require('node:child_process'); const fs = require('node:fs');" +
      "process.on('SIGTERM', () => {});" +
      "const child = spawn('sleep', ['30'], { stdio: 'ignore' });" +
      "fs.writeFileSync(process.env.PID_FILE, process.pid + ' ' + child.pid);" +
      "setInterval(() => {}, 1000);";
    const pending = failure({
      transport: "stdio",
      command: process.execPath,
      args: ["-e", script],
      env: { PID_FILE: pidFile },
      operation: "list_tools",
      timeoutMs: 1000,
    });
    let pids: number[] = [];
    await expect
      .poll(
        async () => (pids = (await readFile(pidFile, "utf8").catch(() => "")).split(" ").filter(Boolean).map(Number)),
      )
      .toHaveLength(2);
    const error = await pending;
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toBe("mcp_executor: list_tools did not finish within 1000 ms");
    await expect.poll(() => pids.filter(isAlive)).toEqual([]);
  });

  it("explains a server that exits, without its secrets", async () => {
    const error = await failure({
      transport: "stdio",
      command: [process.execPath, "-e", "process.stderr.write('boom: ' + process.env.DB_PASSWORD); process.exit(3)"],
      env: { DB_PASSWORD: "hunter2-secret" },
      operation: "list_tools",
    });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("exited with code 3 before answering: boom: [REDACTED]");
    expect(JSON.stringify([error.message, error.details])).not.toContain("hunter2-secret");
  });

  it("reports a command that does not exist", async () => {
    const error = await failure({ transport: "stdio", command: "no-such-mcp-server-xyz", operation: "list_tools" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe('mcp_executor: command not found: "no-such-mcp-server-xyz"');
  });

  it("refuses stdio servers unless the node allows commands", async () => {
    const error = await failure({ ...stdioServer, operation: "list_tools" }, createMcpExecutor());
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("APFLOW_STDIO_ALLOW_COMMAND=1");
  });

  it("honours an allow-list of commands", async () => {
    const listed = createMcpExecutor({ allowStdio: true, allowedCommands: ["python3"] });
    const refused = await failure({ ...stdioServer, operation: "list_tools" }, listed);
    expect(refused.code).toBe("EXECUTOR_FORBIDDEN");
    expect(refused.message).toContain("is not allowed on this node (allowed on this node: python3)");
    const allowed = createMcpExecutor({ allowStdio: true, allowedCommands: [process.execPath], killGraceMs: 300 });
    const result = await run(
      { ...stdioServer, operation: "call_tool", tool: "echo", arguments: { text: "ok" } },
      allowed,
    );
    expect(result.text).toBe("echo: ok");
  });
});

describe("mcp_executor over streamable HTTP", () => {
  const mcpHttp = createMcpExecutor({ allowPrivateUrls: true });
  const server = () => ({ transport: "http", url: httpPeer.url });

  it("lists tools with the given headers, and ends its session", async () => {
    const ctx = fakeContext();
    const before = httpPeer.closedSessions.length;
    const result = await run(
      { ...server(), operation: "list_tools", headers: { Authorization: "Bearer mcp-token-456", "X-Trace": "t1" } },
      mcpHttp,
      ctx,
    );
    expect((result.tools as { name: string }[]).map((t) => t.name)).toContain("add");
    const posts = httpPeer.requests.filter((r) => r.method === "POST");
    expect(posts.at(-1)!.headers.authorization).toBe("Bearer mcp-token-456");
    expect(posts.at(-1)!.headers["x-trace"]).toBe("t1");
    expect(httpPeer.closedSessions.length).toBe(before + 1);
    expect(JSON.stringify(ctx.logs)).not.toContain("mcp-token-456");
  });

  it("calls tools and reads resources", async () => {
    const add = await run({ ...server(), operation: "call_tool", tool: "add", arguments: { a: 40, b: 2 } }, mcpHttp);
    expect(add.structuredContent).toEqual({ sum: 42 });
    const read = await run({ ...server(), operation: "read_resource", uri: "memo://data.json" }, mcpHttp);
    expect(JSON.parse(read.text as string)).toEqual({ answer: 42 });
  });

  it("fails the task on a tool error", async () => {
    const error = await failure({ ...server(), operation: "call_tool", tool: "fail" }, mcpHttp);
    expect(error.message).toContain("the tool broke on purpose");
  });

  it("fails with the HTTP status of a wrong endpoint", async () => {
    const error = await failure(
      { transport: "http", url: httpPeer.url.replace("/mcp", "/nope"), operation: "list_tools" },
      mcpHttp,
    );
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("404");
  });

  it("cancels a call in progress", async () => {
    const controller = new AbortController();
    const pending = run(
      { ...server(), operation: "call_tool", tool: "slow", arguments: { ms: 30_000 } },
      mcpHttp,
      fakeContext({ signal: controller.signal }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort(new Error("stop"));
    expect(((await caught(() => pending)) as Error).message).toBe("stop");
  });

  it("refuses private addresses unless allowed", async () => {
    const error = await failure({ ...server(), operation: "list_tools" }, createMcpExecutor());
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toMatch(
      /^mcp_executor refused http:\/\/127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address/,
    );
  });
});

describe("mcp_executor inputs", () => {
  it("reports every problem at once", async () => {
    const missing = await failure({});
    expect(missing.problems.map((p) => p.path)).toEqual(["inputs.transport", "inputs.operation"]);
    const call = await failure({ transport: "stdio", operation: "call_tool", arguments: [] });
    expect(call.problems.map((p) => p.path)).toEqual(["inputs.tool", "inputs.arguments", "inputs.command"]);
    const read = await failure({ transport: "http", url: "ftp://x", operation: "read_resource", headers: { a: 1 } });
    expect(read.problems.map((p) => p.path)).toEqual(["inputs.uri", "inputs.url", "inputs.headers"]);
    const bad = await failure({ transport: "pigeon", operation: "dance" });
    expect(bad.problems.map((p) => p.path)).toEqual(["inputs.transport", "inputs.operation"]);
  });

  it("has a strict input schema", () => {
    const schema = mcp.inputSchema as { additionalProperties: boolean; required: string[] };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["transport", "operation"]);
  });
});
