/**
 * `websocket_executor`: one WebSocket exchange, as a task: connect, send a message,
 * collect the replies, close. It sits behind the same private-address guard as
 * `rest_executor` (task inputs choose the URL), and the connection is pinned to the
 * addresses the guard checked; redirects are not followed, since they would bypass it.
 */
import WebSocket, { type RawData } from "ws";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { checkedAddresses, guardOptions } from "./address-guard.js";
import { bounded } from "./deadline.js";
import { InputReader, MAX_TIMER_MS } from "./inputs.js";
import { shownUrl } from "./shown-url.js";
import { pinnedLookup, type ResolveHost } from "./url-guard.js";

export interface WebSocketExecutorOptions {
  /** Allow loopback, private and link-local addresses (APFLOW_WEBSOCKET_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Host names or IP literals exempt from the private-address guard. */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guard (custom resolvers, tests). @defaultValue dns.lookup */
  resolve?: ResolveHost;
}

export interface WebSocketResult extends JsonObject {
  /** The messages received, in order: parsed JSON, text, or base64 for binary frames. */
  replies: JsonValue[];
  /** The subprotocol the server selected, or null. */
  protocol: string | null;
  durationMs: number;
}

interface WebSocketInputs {
  url: URL;
  headers: Record<string, string>;
  subprotocols: string[];
  /** The text to send; undefined sends nothing. */
  message: string | undefined;
  waitForReply: boolean;
  expectMessages: number;
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  parseJson: boolean;
  verifyTls: boolean;
  maxMessageBytes: number;
}

const ID = "websocket_executor";
const SETTING = "APFLOW_WEBSOCKET_ALLOW_PRIVATE_URLS";
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_REPLY_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** After a normal close is sent, how long the server gets to answer before the socket is dropped. */
const CLOSE_GRACE_MS = 1000;

const inputSchema = {
  type: "object",
  properties: {
    url: { type: "string", format: "uri", description: "Absolute ws or wss URL to connect to." },
    headers: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Extra HTTP headers for the opening handshake (e.g. Authorization).",
    },
    subprotocols: {
      type: "array",
      items: { type: "string", minLength: 1 },
      description: "Subprotocols offered in Sec-WebSocket-Protocol; the server's choice is returned as `protocol`.",
    },
    message: {
      description:
        "The message to send once connected: a string is sent as is, any other JSON value as JSON text. " +
        "Omit it to only listen.",
    },
    waitForReply: {
      type: "boolean",
      default: true,
      description: "Wait for expectMessages messages before closing; false closes as soon as the message is sent.",
    },
    expectMessages: {
      type: "integer",
      minimum: 1,
      default: 1,
      description: "How many messages to collect (counted from the opening of the connection) when waiting.",
    },
    connectTimeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_CONNECT_TIMEOUT_MS,
      description: "Limit for the opening handshake; then the task fails with TIMEOUT.",
    },
    replyTimeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_REPLY_TIMEOUT_MS,
      description: "Limit for receiving all expected messages once connected; then the task fails with TIMEOUT.",
    },
    parseJson: {
      type: "boolean",
      default: true,
      description: "Return text messages that are valid JSON parsed; false returns every text message as a string.",
    },
    verifyTls: {
      type: "boolean",
      default: true,
      description: "Verify the server's TLS certificate (wss); false accepts self-signed and invalid certificates.",
    },
    maxMessageBytes: {
      type: "integer",
      minimum: 1,
      default: DEFAULT_MAX_MESSAGE_BYTES,
      description: "Largest message accepted; a larger one fails the task.",
    },
  },
  required: ["url"],
  additionalProperties: false,
};

/** Builds `websocket_executor`; unless `allowPrivateUrls`, only public addresses are reachable. */
export function createWebSocketExecutor(options: WebSocketExecutorOptions = {}): Executor {
  return defineExecutor({
    id: ID,
    description:
      "Connects to a WebSocket server, sends a message (text, or JSON for other values), collects the expected " +
      "number of replies and returns { replies, protocol, durationMs } (JSON replies parsed). A close by the " +
      "server before the replies arrive fails the task. Private, loopback and link-local addresses are refused " +
      `unless the node allows them (${SETTING}=1).`,
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      ctx.signal.throwIfAborted();
      // DNS lookups cannot be aborted: bound the guard by the connect timeout and the signal.
      const addresses = await bounded(guard(input.url, options), ctx.signal, input.connectTimeoutMs, () =>
        connectTimeout(input),
      );
      ctx.signal.throwIfAborted();
      ctx.logger.debug("websocket connect", { url: shownUrl(input.url), subprotocols: input.subprotocols });
      return exchange(input, addresses, ctx);
    },
  });
}

/** The private-address guard of rest_executor, with this executor's scheme check and setting. */
async function guard(url: URL, options: WebSocketExecutorOptions) {
  const httpUrl = new URL(url.href.replace(/^ws/i, "http"));
  return checkedAddresses(
    httpUrl,
    guardOptions(options.allowPrivateUrls, options),
    (what) =>
      `${ID} refused ${shownUrl(url)}: ${what}. Set ${SETTING}=1 to allow private, loopback and link-local addresses`,
  );
}

function connectTimeout(input: WebSocketInputs): ApflowError {
  return new ApflowError(
    ErrorCode.TIMEOUT,
    `${shownUrl(input.url)}: no WebSocket connection within ${input.connectTimeoutMs} ms`,
    { connectTimeoutMs: input.connectTimeoutMs },
  );
}

function exchange(
  input: WebSocketInputs,
  addresses: Awaited<ReturnType<typeof guard>>,
  ctx: ExecutorContext,
): Promise<WebSocketResult> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const shown = shownUrl(input.url);
    const replies: JsonValue[] = [];
    const socket = new WebSocket(input.url, input.subprotocols, {
      headers: input.headers,
      handshakeTimeout: input.connectTimeoutMs,
      maxPayload: input.maxMessageBytes,
      followRedirects: false,
      rejectUnauthorized: input.verifyTls,
      lookup: addresses ? pinnedLookup(addresses) : undefined,
    });
    let settled = false;
    let replyTimer: NodeJS.Timeout | undefined;

    const finish = (error: unknown, result?: WebSocketResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(replyTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      if (socket.readyState === WebSocket.OPEN) {
        socket.close(error === undefined ? 1000 : 1001);
        setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      } else if (socket.readyState !== WebSocket.CLOSED) {
        socket.terminate();
      }
      if (error === undefined) resolve(result!);
      else reject(error);
    };
    const succeed = () =>
      finish(undefined, {
        replies,
        protocol: socket.protocol || null,
        durationMs: Math.round(performance.now() - startedAt),
      });
    const onAbort = () => finish(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onAbort, { once: true });

    socket.on("unexpected-response", (request, response) => {
      request.destroy();
      finish(
        new ApflowError(
          ErrorCode.EXECUTOR_FAILED,
          `${shown} refused the WebSocket handshake with HTTP ${response.statusCode}`,
          { status: response.statusCode ?? null },
        ),
      );
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish(socketError(error, input, shown)));
    socket.on("open", () => {
      if (input.waitForReply) {
        replyTimer = setTimeout(
          () =>
            finish(
              new ApflowError(
                ErrorCode.TIMEOUT,
                `${shown}: received ${replies.length} of ${input.expectMessages} messages within ${input.replyTimeoutMs} ms`,
                { received: replies.length, expected: input.expectMessages, replyTimeoutMs: input.replyTimeoutMs },
              ),
            ),
          input.replyTimeoutMs,
        );
      }
      if (input.message !== undefined) {
        socket.send(input.message, (error) => {
          if (error) finish(socketError(error, input, shown));
          else if (!input.waitForReply) succeed();
        });
      } else if (!input.waitForReply) {
        succeed();
      }
    });
    socket.on("message", (data, isBinary) => {
      if (settled || !input.waitForReply) return;
      replies.push(decode(data, isBinary, input.parseJson));
      ctx.reportProgress(replies.length / input.expectMessages);
      if (replies.length >= input.expectMessages) succeed();
    });
    socket.on("close", (code, reason) => {
      const why = reason.length > 0 ? `: ${reason.toString("utf8").slice(0, 200)}` : "";
      finish(
        new ApflowError(
          ErrorCode.EXECUTOR_FAILED,
          `${shown} closed the connection (code ${code}${why}) after ${replies.length} of ` +
            `${input.waitForReply ? input.expectMessages : 0} expected messages`,
          { closeCode: code, received: replies.length },
        ),
      );
    });
  });
}

function decode(data: RawData, isBinary: boolean, parseJson: boolean): JsonValue {
  const bytes = Buffer.isBuffer(data)
    ? data
    : Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.from(data as ArrayBuffer);
  if (isBinary) return bytes.toString("base64");
  const text = bytes.toString("utf8");
  if (!parseJson) return text;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function socketError(error: NodeJS.ErrnoException, input: WebSocketInputs, shown: string): ApflowError {
  if (/handshake has timed out/i.test(error.message)) return connectTimeout(input);
  if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
    return new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `${shown} sent a message larger than maxMessageBytes (${input.maxMessageBytes} bytes)`,
      { maxMessageBytes: input.maxMessageBytes },
    );
  }
  const tlsHint = /certificate|self[- ]signed|CERT/i.test(`${error.code} ${error.message}`)
    ? " (set verifyTls: false to accept it)"
    : "";
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `WebSocket ${shown} failed: ${error.message}${tlsHint}`,
    { code: error.code ?? null },
    { cause: error },
  );
}

function readInputs(raw: JsonObject): WebSocketInputs {
  const reader = new InputReader(ID, raw);
  const urlText = reader.string("url", { required: true, nonEmpty: true });
  let url: URL | undefined;
  if (urlText !== undefined) {
    try {
      url = new URL(urlText);
      if (url.protocol !== "ws:" && url.protocol !== "wss:") reader.problem("url", "must be a ws or wss URL");
      if (url.hash) reader.problem("url", "must not have a fragment (#...)");
    } catch {
      reader.problem("url", "must be an absolute ws or wss URL");
    }
  }
  const headers = reader.stringMap("headers") ?? {};
  const subprotocols = reader.stringArray("subprotocols") ?? [];
  if (subprotocols.some((name) => !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))) {
    reader.problem("subprotocols", "must be tokens (no spaces, commas or separators)");
  }
  const messageValue = reader.raw("message");
  const message =
    messageValue === undefined || typeof messageValue === "string" ? messageValue : JSON.stringify(messageValue);
  const waitForReply = reader.boolean("waitForReply") ?? true;
  if (message === undefined && !waitForReply) reader.problem("message", "is required when waitForReply is false");
  const input: WebSocketInputs = {
    url: url!,
    headers,
    subprotocols,
    message,
    waitForReply,
    expectMessages: reader.integer("expectMessages", 1) ?? 1,
    connectTimeoutMs: reader.integer("connectTimeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    replyTimeoutMs: reader.integer("replyTimeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_REPLY_TIMEOUT_MS,
    parseJson: reader.boolean("parseJson") ?? true,
    verifyTls: reader.boolean("verifyTls") ?? true,
    maxMessageBytes: reader.integer("maxMessageBytes", 1) ?? DEFAULT_MAX_MESSAGE_BYTES,
  };
  reader.finish();
  return input; // url is set: a missing or invalid url is a problem, and finish() threw
}
