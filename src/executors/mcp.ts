/**
 * `mcp_executor`: one Model Context Protocol operation (list or call tools, list or read
 * resources) against an MCP server, as a task, using the MCP SDK's client. The server is
 * a host command over stdio, which is running a command from task inputs and so off
 * unless the node allows commands (APFLOW_STDIO_ALLOW_COMMAND=1, as command_executor),
 * or a streamable HTTP endpoint behind the same SSRF guard as rest_executor.
 * Each run opens its own session and closes it (and stops the server) when done.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { McpError, ErrorCode as McpErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { ApflowError, ErrorCode, errorMessage } from "../core/errors.js";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import { isSecretKey, redactSecrets } from "../core/redact.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { guardOptions } from "./address-guard.js";
import { withDeadline } from "./deadline.js";
import { guardedFetch } from "./guarded-fetch.js";
import { allowedExecutable, checkDirectory, childEnv } from "./host-command.js";
import { InputReader, isJsonObject, MAX_TIMER_MS } from "./inputs.js";
import { StdioProcessTransport } from "./mcp-stdio.js";
import { shownUrl } from "./shown-url.js";
import type { ResolveHost } from "./url-guard.js";

export interface McpExecutorOptions {
  /** Let tasks start MCP servers as host commands over stdio (APFLOW_STDIO_ALLOW_COMMAND=1). @defaultValue false */
  allowStdio?: boolean;
  /** When set, the only executables a stdio server may be (bare names on this node's PATH, or absolute paths). */
  allowedCommands?: string[];
  /** Let http servers be at private, loopback and link-local addresses (APFLOW_REST_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Hosts reachable despite the private-address guard. */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guard (tests, custom resolvers). */
  resolve?: ResolveHost;
  /** How long a stdio server may take to exit after stdin closes, and after SIGTERM. @defaultValue 2000 */
  killGraceMs?: number;
}

const ID = "mcp_executor";
const OPERATIONS = ["list_tools", "call_tool", "list_resources", "read_resource"] as const;
type Operation = (typeof OPERATIONS)[number];
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_KILL_GRACE_MS = 2000;
/** Pages fetched at most when listing (a server that never stops paginating). */
const MAX_PAGES = 100;
const CLIENT_INFO = { name: "apflow", version: "0.1.0" };
/** How long ending an HTTP session (DELETE) may take before the connection is just closed. */
const SESSION_END_WAIT_MS = 1000;

const inputSchema = {
  type: "object",
  properties: {
    transport: {
      type: "string",
      enum: ["stdio", "http"],
      description: "stdio: start the server as a command (needs APFLOW_STDIO_ALLOW_COMMAND=1); http: streamable HTTP.",
    },
    operation: { type: "string", enum: [...OPERATIONS], description: "The MCP operation to perform." },
    command: {
      oneOf: [
        { type: "string", minLength: 1 },
        { type: "array", items: { type: "string" }, minItems: 1 },
      ],
      description: "stdio: the server's executable, or [executable, ...args] as apflow's Python executor takes it.",
    },
    args: { type: "array", items: { type: "string" }, description: "stdio: arguments for the command." },
    env: {
      type: "object",
      additionalProperties: { type: "string" },
      description:
        "stdio: environment variables for the server, over a minimal environment (PATH, HOME, USER, LOGNAME, " +
        "LANG, LC_ALL, LC_CTYPE, TZ, TMPDIR from the node).",
    },
    cwd: { type: "string", description: "stdio: the server's working directory." },
    url: { type: "string", format: "uri", description: "http: the server's MCP endpoint, e.g. https://host/mcp." },
    headers: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "http: headers sent with every request (e.g. Authorization).",
    },
    tool: { type: "string", minLength: 1, description: "call_tool: the tool's name." },
    arguments: { type: "object", description: "call_tool: the tool's arguments." },
    uri: { type: "string", minLength: 1, description: "read_resource: the resource's URI." },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_TIMEOUT_MS,
      description: "Limit for the whole run (start, handshake, operation); then the task fails with TIMEOUT.",
    },
  },
  required: ["transport", "operation"],
  additionalProperties: false,
};

type McpInputs = {
  operation: Operation;
  tool: string;
  arguments: JsonObject;
  uri: string;
  timeoutMs: number;
  /** Secret values (env and header values under secret-like names) to keep out of messages. */
  secrets: string[];
} & (
  | { transport: "stdio"; command: string; args: string[]; env: Record<string, string>; cwd: string | undefined }
  | { transport: "http"; url: URL; headers: Record<string, string> }
);

/** Builds `mcp_executor`; stdio servers need `allowStdio`, private http addresses `allowPrivateUrls`. */
export function createMcpExecutor(options: McpExecutorOptions = {}): Executor {
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return defineExecutor({
    id: ID,
    description:
      "Performs one MCP (Model Context Protocol) operation on a server: list_tools, call_tool (tool, arguments), " +
      "list_resources or read_resource (uri). The server is a command over stdio (disabled unless the node " +
      "allows commands, APFLOW_STDIO_ALLOW_COMMAND=1) or a streamable HTTP url. Returns the MCP result " +
      "({ tools }, { content, structuredContent, text }, { resources } or { contents, text }); a tool error fails " +
      "the task.",
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      if (input.transport === "stdio" && !options.allowStdio) {
        throw new ApflowError(
          ErrorCode.EXECUTOR_FORBIDDEN,
          `${ID}: stdio servers are disabled on this node: set APFLOW_STDIO_ALLOW_COMMAND=1 to let tasks start ` +
            "MCP servers as commands (http servers need no setting)",
        );
      }
      if (input.transport === "stdio" && input.cwd !== undefined) await checkDirectory(ID, input.cwd);
      const scrub = scrubber(input.secrets);
      // Set once the session exists; run after the operation whatever its outcome, so the server is
      // stopped before the task ends, without the stopping counting against the operation's time limit.
      let closeSession: ((urgent: boolean) => Promise<void>) | undefined;
      let runSignal: AbortSignal | undefined;
      try {
        return await withDeadline(
          ctx.signal,
          input.timeoutMs,
          () => `${ID}: ${input.operation} did not finish within ${input.timeoutMs} ms`,
          async (signal) => {
            runSignal = signal;
            const transport = await openTransport(input, options, graceMs, ctx);
            const client = new Client(CLIENT_INFO);
            closeSession = (urgent) => close(client, transport, urgent);
            // A run cancelled while opening must not start a server that nothing would stop.
            signal.throwIfAborted();
            const request: RequestOptions = {
              signal,
              timeout: input.timeoutMs,
              onprogress: ({ progress, total, message }) => {
                if (total) ctx.reportProgress(Math.min(1, progress / total), message);
              },
            };
            try {
              await client.connect(transport, { signal, timeout: input.timeoutMs });
              return await perform(client, input, request);
            } catch (error) {
              throw failure(error, input, transport, scrub, signal);
            }
          },
        );
      } finally {
        // Cancelled or timed out: stop at once; otherwise (done, or a failed call) end politely.
        await closeSession?.(runSignal?.aborted ?? true);
      }
    },
  });
}

/**
 * Ends the session. Normally politely (an HTTP session is deleted; a stdio server gets
 * EOF and time to exit); `urgent` (cancellation, timeout) stops a stdio server at once
 * with SIGTERM, then SIGKILL after the grace period.
 */
async function close(client: Client, transport: Transport, urgent: boolean): Promise<void> {
  if (transport instanceof StdioProcessTransport && urgent) await transport.terminate();
  if (transport instanceof StreamableHTTPClientTransport && !urgent && transport.sessionId !== undefined) {
    // Frees the server's session at once rather than leaving it to expire; not worth waiting long for.
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SESSION_END_WAIT_MS);
    });
    await Promise.race([transport.terminateSession().catch(() => {}), patience]);
    clearTimeout(timer);
  }
  await client.close().catch(() => {});
}

async function openTransport(
  input: McpInputs,
  options: McpExecutorOptions,
  graceMs: number,
  ctx: ExecutorContext,
): Promise<Transport> {
  if (input.transport === "http") {
    ctx.logger.info("mcp over http", { operation: input.operation, url: shownUrl(input.url) });
    const guard = guardOptions(options.allowPrivateUrls, options);
    return new StreamableHTTPClientTransport(input.url, {
      fetch: guardedFetch(guard, ID),
      requestInit: { headers: input.headers },
      // A failed event stream is not reconnected in the background: this session lives for one operation.
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 1000,
        maxReconnectionDelay: 1000,
        reconnectionDelayGrowFactor: 1,
      },
    });
  }
  const file = options.allowedCommands
    ? await allowedExecutable(ID, input.command, options.allowedCommands)
    : input.command;
  ctx.logger.info("mcp over stdio", { operation: input.operation, executable: file, argCount: input.args.length });
  return new StdioProcessTransport({ file, args: input.args, env: input.env, cwd: input.cwd, graceMs });
}

async function perform(client: Client, input: McpInputs, request: RequestOptions): Promise<JsonObject> {
  switch (input.operation) {
    case "list_tools": {
      const tools = await allPages((cursor) => client.listTools({ cursor }, request), "tools");
      return { tools };
    }
    case "list_resources": {
      const resources = await allPages((cursor) => client.listResources({ cursor }, request), "resources");
      return { resources };
    }
    case "read_resource": {
      const result = await client.readResource({ uri: input.uri }, request);
      const contents = result.contents as unknown as JsonObject[];
      return { contents, text: joinText(contents) };
    }
    case "call_tool": {
      const result = await client.callTool({ name: input.tool, arguments: input.arguments }, undefined, request);
      const content = (Array.isArray(result.content) ? result.content : []) as JsonObject[];
      if (result.isError) {
        const text = joinText(content);
        throw new ApflowError(
          ErrorCode.EXECUTOR_FAILED,
          `${ID}: tool "${input.tool}" reported an error${text ? `: ${text.slice(0, 500)}` : ""}`,
          { tool: input.tool, content: redactSecrets(content) },
        );
      }
      const structured = isJsonObject(result.structuredContent as JsonValue)
        ? (result.structuredContent as JsonObject)
        : null;
      return { content, structuredContent: structured, text: joinText(content) };
    }
  }
}

/** Follows `nextCursor` until the last page. */
async function allPages(
  page: (cursor: string | undefined) => Promise<{ nextCursor?: string; [key: string]: unknown }>,
  key: string,
): Promise<JsonValue[]> {
  const items: JsonValue[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const result = await page(cursor);
    items.push(...((result[key] as JsonValue[] | undefined) ?? []));
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** The text parts of MCP content (or resource contents), joined: what most consumers want. */
function joinText(items: JsonObject[]): string {
  return items
    .filter((item) => typeof item.text === "string" && (item.type === undefined || item.type === "text"))
    .map((item) => item.text as string)
    .join("\n");
}

/** Turns what the SDK, the transport or the server threw into the task's error. */
function failure(
  error: unknown,
  input: McpInputs,
  transport: Transport,
  scrub: (text: string) => string,
  signal: AbortSignal,
): unknown {
  if (signal.aborted || error instanceof ApflowError) return error;
  const command = input.transport === "stdio" ? input.command : "";
  const where = command ? `the MCP server "${command}"` : "the MCP server";
  if (transport instanceof StdioProcessTransport) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES") {
      const what = code === "ENOENT" ? "command not found" : "permission denied running";
      return new ApflowError(ErrorCode.EXECUTOR_FAILED, `${ID}: ${what}: "${command}"`, { code });
    }
    if (transport.exit) {
      const how = transport.exit.signal
        ? `was killed by ${transport.exit.signal}`
        : `exited with code ${transport.exit.code}`;
      const stderr = scrub(transport.stderrTail.trim());
      return new ApflowError(
        ErrorCode.EXECUTOR_FAILED,
        `${ID}: ${where} ${how} before answering${stderr ? `: ${stderr.slice(-500)}` : ""}`,
        { exitCode: transport.exit.code, signal: transport.exit.signal, stderrTail: stderr },
      );
    }
  }
  if (error instanceof StreamableHTTPError) {
    const status = error.code === undefined ? "" : ` HTTP ${error.code}`;
    return new ApflowError(ErrorCode.EXECUTOR_FAILED, `${ID}: ${where} answered${status}: ${scrub(error.message)}`, {
      status: error.code ?? null,
    });
  }
  if (error instanceof McpError) {
    const timedOut = error.code === McpErrorCode.RequestTimeout;
    return new ApflowError(
      timedOut ? ErrorCode.TIMEOUT : ErrorCode.EXECUTOR_FAILED,
      `${ID}: ${input.operation} failed: ${scrub(error.message)}`,
      { mcpCode: error.code },
    );
  }
  return new ApflowError(ErrorCode.EXECUTOR_FAILED, `${ID}: ${input.operation} failed: ${scrub(errorMessage(error))}`);
}

/** Replaces the given secret values in text (servers may print their environment or echo headers). */
function scrubber(secrets: string[]): (text: string) => string {
  const values = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => values.reduce((out, value) => out.split(value).join("[REDACTED]"), text);
}

function readInputs(raw: JsonObject): McpInputs {
  const reader = new InputReader(ID, raw);
  const transport = reader.oneOf("transport", ["stdio", "http"] as const);
  if (transport === undefined && reader.raw("transport") === undefined) reader.problem("transport", "is required");
  const operation = reader.oneOf("operation", OPERATIONS);
  if (operation === undefined && reader.raw("operation") === undefined) reader.problem("operation", "is required");
  const tool = operation === "call_tool" ? reader.string("tool", { required: true, nonEmpty: true }) : undefined;
  const args = operation === "call_tool" ? (reader.object("arguments") ?? {}) : {};
  const uri = operation === "read_resource" ? reader.string("uri", { required: true, nonEmpty: true }) : undefined;
  const timeoutMs = reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS;
  const common = { operation: operation!, tool: tool ?? "", arguments: args, uri: uri ?? "", timeoutMs };
  // Keys of the other transport are ignored, not refused: dependency results are merged into inputs.
  if (transport === "http") {
    const urlText = reader.string("url", { required: true, nonEmpty: true });
    let url: URL | undefined;
    if (urlText !== undefined) {
      try {
        url = new URL(urlText);
        if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError("not http");
      } catch {
        reader.problem("url", "must be an absolute http or https URL");
      }
    }
    const headers = reader.stringMap("headers") ?? {};
    reader.finish();
    const secrets = Object.entries(headers).flatMap(([name, value]) => (isSecretKey(name) ? secretParts(value) : []));
    return { ...common, transport, url: url!, headers, secrets };
  }
  let command: string | undefined;
  let commandArgs: string[] = [];
  let env: Record<string, string> = {};
  let cwd: string | undefined;
  if (transport === "stdio") {
    commandArgs = reader.stringArray("args") ?? [];
    if (Array.isArray(reader.raw("command"))) {
      const parts = reader.stringArray("command");
      if (parts?.[0]) [command, commandArgs] = [parts[0], [...parts.slice(1), ...commandArgs]];
      else if (parts) reader.problem("command", "must start with the executable");
    } else {
      command = reader.string("command", { required: true, nonEmpty: true });
    }
    env = reader.stringMap("env") ?? {};
    cwd = reader.string("cwd", { nonEmpty: true });
  }
  reader.finish(); // throws when transport was missing or invalid
  const secrets = Object.entries(env).flatMap(([name, value]) => (isSecretKey(name) ? [value] : []));
  return {
    ...common,
    transport: "stdio",
    command: command!,
    args: commandArgs,
    env: { ...childEnv(), ...env },
    cwd,
    secrets,
  };
}

/** A credential header's value and its token part (`Bearer abc` -> also `abc`). */
function secretParts(value: string): string[] {
  const token = value.split(/\s+/).at(-1);
  return token && token !== value ? [value, token] : [value];
}
