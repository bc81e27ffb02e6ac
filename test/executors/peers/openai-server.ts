/**
 * A real OpenAI-compatible HTTP server on loopback for the LLM-based executors' tests.
 * Each test scripts the answers (a queue, then a fallback function), and every request
 * is recorded with its parsed body so tests can assert the prompts that were sent.
 * Streamed answers use the real wire format: `data: {chunk}\n\n` events ending with
 * `data: [DONE]`, one chunk per word, with usage in a last chunk as OpenAI sends it.
 */
import http, { type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { listenOnLoopback } from "./loopback.js";

export type Reply =
  | {
      content: string;
      finishReason?: string;
      model?: string;
      /** Wait before each streamed chunk (or before a JSON answer). */
      delayMs?: number;
      /** Stream this many chunks, then stop writing without ending the response. */
      hangAfterChunks?: number;
      /** Stream this many chunks, then drop the connection. */
      dropAfterChunks?: number;
      /** Send usage (default true). */
      usage?: boolean;
    }
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { streamError: string };

export interface ChatMessageSeen {
  role: string;
  content: string;
}

export interface SeenChat {
  path: string;
  headers: IncomingHttpHeaders;
  body: { model?: string; messages: ChatMessageSeen[]; stream?: boolean; [key: string]: unknown };
  /** Set when the client hung up before the answer was finished. */
  closedEarly: boolean;
}

export interface OpenAiPeer {
  /** e.g. http://127.0.0.1:40123/v1 */
  baseUrl: string;
  requests: SeenChat[];
  /** Answers for the next requests, in order. */
  script(...replies: Reply[]): void;
  /** The answer when the script is used up; by default echoes the last user message. */
  fallback: (request: SeenChat) => Reply;
  /** Most requests open at the same time since the last reset (to check concurrency limits). */
  maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
}

const defaultFallback = (request: SeenChat): Reply => {
  const last = [...request.body.messages].reverse().find((m) => m.role === "user");
  return { content: `echo: ${last?.content ?? ""}` };
};

/** Numbers answer ids across all peers of a test run. */
let nextId = 1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The peer of a test file: it listens from before the file's first test to after its
 * last, and is reset before each test. Its fields are there once it listens.
 */
export function useOpenAiPeer(): OpenAiPeer {
  const peer = {} as OpenAiPeer;
  beforeAll(() => startOpenAiPeer(peer));
  beforeEach(() => peer.reset());
  afterAll(() => peer.close());
  return peer;
}

/** Starts a peer in `peer`, so a test file can hold on to it before it listens. */
async function startOpenAiPeer(peer: OpenAiPeer): Promise<void> {
  const requests: SeenChat[] = [];
  let queue: Reply[] = [];
  Object.assign(peer, { fallback: defaultFallback, maxInFlight: 0 });
  let inFlight = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: SeenChat["body"];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        body = { messages: [] };
      }
      const seen: SeenChat = { path: req.url ?? "", headers: req.headers, body, closedEarly: false };
      requests.push(seen);
      inFlight++;
      peer.maxInFlight = Math.max(peer.maxInFlight, inFlight);
      res.on("close", () => {
        inFlight--;
        if (!res.writableFinished) seen.closedEarly = true;
      });
      if (req.method !== "POST" || !seen.path.endsWith("/chat/completions")) {
        send(res, 404, { error: { message: "not found" } });
        return;
      }
      const reply = queue.shift() ?? peer.fallback(seen);
      answer(res, seen, reply).catch((error) => res.destroy(error));
    });
  });
  const { port, close } = await listenOnLoopback(server);
  Object.assign(peer, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...replies: Reply[]) => {
      queue.push(...replies);
    },
    reset: () => {
      queue = [];
      requests.length = 0;
      peer.fallback = defaultFallback;
      peer.maxInFlight = 0;
    },
    close,
  });
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(value));
}

async function answer(res: ServerResponse, request: SeenChat, reply: Reply): Promise<void> {
  if ("status" in reply) {
    send(res, reply.status, reply.body ?? { error: { message: `scripted ${reply.status}` } }, reply.headers);
    return;
  }
  const model = "model" in reply && reply.model ? reply.model : (request.body.model ?? "peer-model");
  const id = `chatcmpl-${nextId++}`;
  if ("streamError" in reply) {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: ${JSON.stringify({ id, model, choices: [{ index: 0, delta: { content: "partial" } }] })}\n\n`);
    res.end(`data: ${JSON.stringify({ error: { message: reply.streamError, type: "server_error" } })}\n\n`);
    return;
  }
  const promptTokens = request.body.messages.reduce((n, m) => n + m.content.split(/\s+/).length, 0);
  const pieces = reply.content.match(/\S+\s*|\s+/g) ?? [];
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: pieces.length,
    total_tokens: promptTokens + pieces.length,
  };
  const finishReason = reply.finishReason ?? "stop";
  if (!request.body.stream) {
    if (reply.delayMs) await sleep(reply.delayMs);
    send(res, 200, {
      id,
      object: "chat.completion",
      model,
      choices: [{ index: 0, message: { role: "assistant", content: reply.content }, finish_reason: finishReason }],
      ...(reply.usage === false ? {} : { usage }),
    });
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const event = (value: unknown) => res.write(`data: ${JSON.stringify(value)}\n\n`);
  event({ id, object: "chat.completion.chunk", model, choices: [{ index: 0, delta: { role: "assistant" } }] });
  for (const [i, piece] of pieces.entries()) {
    if (reply.hangAfterChunks !== undefined && i >= reply.hangAfterChunks) return; // never ends
    if (reply.dropAfterChunks !== undefined && i >= reply.dropAfterChunks) {
      res.destroy();
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    event({ id, object: "chat.completion.chunk", model, choices: [{ index: 0, delta: { content: piece } }] });
  }
  event({
    id,
    object: "chat.completion.chunk",
    model,
    choices: [{ index: 0, delta: {}, finish_reason: finishReason }],
  });
  if (reply.usage !== false) event({ id, object: "chat.completion.chunk", model, choices: [], usage });
  res.end("data: [DONE]\n\n");
}
