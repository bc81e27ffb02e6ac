/**
 * A small client for OpenAI-compatible chat completions (OpenAI, Azure-style proxies,
 * Ollama, vLLM, llama.cpp, LM Studio...), shared by llm_executor, crew_executor and
 * generate_executor. Hand-written rather than an SDK because it needs little: one
 * endpoint, SSE streaming, retries of 429/5xx that honour Retry-After, and errors
 * that never carry the API key.
 */
import { ApflowError, ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/executor.js";
import { redactSecrets } from "../core/redact.js";
import { retryDelayMs } from "../core/retry.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { sleep } from "./deadline.js";
import type { FetchLike } from "./guarded-fetch.js";
import { isJsonObject as isObject } from "./inputs.js";
import { shownUrl } from "./shown-url.js";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatUsage extends JsonObject {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  /** OpenAI's `response_format`, sent as given. */
  responseFormat?: JsonObject;
  stream: boolean;
}

export interface ChatCompletion {
  content: string;
  /** The model that answered, as the server names it. */
  model: string;
  /** Null when the server reports none (some servers omit it when streaming). */
  usage: ChatUsage | null;
  finishReason: string | null;
}

export interface ChatCall {
  signal: AbortSignal;
  /** Each streamed piece of content, with the whole text so far. */
  onDelta?: (delta: string, text: string) => void;
  logger?: Logger;
}

export interface OpenAiClientOptions {
  /** Up to and including the API version, e.g. https://api.openai.com/v1 */
  baseUrl: string;
  apiKey?: string;
  fetch: FetchLike;
  /** Names the caller in errors, e.g. llm_executor. */
  who: string;
  /** Retries of a 429 or 5xx answer. @defaultValue 3 */
  maxRetries?: number;
  /** First retry delay before jitter; doubles each retry. @defaultValue 500 */
  retryBaseDelayMs?: number;
  /** Longest wait between retries; a longer Retry-After fails at once. @defaultValue 30000 */
  maxRetryDelayMs?: number;
}

export interface OpenAiClient {
  chat(request: ChatRequest, call: ChatCall): Promise<ChatCompletion>;
}

const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_RETRY_BASE_MS = 500;
const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;
const ERROR_BODY_CHARS = 2000;
/** A non-streamed answer larger than this is refused (a misbehaving server). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export function createOpenAiClient(options: OpenAiClientOptions): OpenAiClient {
  const endpoint = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const shown = shownEndpoint(endpoint);
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const policy = {
    baseDelayMs: options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_MS,
    maxDelayMs: options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
  };
  // Servers sometimes echo the key in an error ("Incorrect API key provided: sk-..."): scrub it everywhere.
  const scrub = (text: string) => (options.apiKey ? text.split(options.apiKey).join("[REDACTED]") : text);

  async function send(body: string, signal: AbortSignal, stream: boolean): Promise<Response> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      "user-agent": "apflow",
    };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    try {
      return await options.fetch(endpoint, { method: "POST", headers, body, signal });
    } catch (error) {
      if (signal.aborted || error instanceof ApflowError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? null;
      throw new ApflowError(
        ErrorCode.EXECUTOR_FAILED,
        `${options.who}: could not reach ${shown}: ${scrub((error as Error).message)}`,
        { code, url: shown },
      );
    }
  }

  return {
    async chat(request, call) {
      const body = JSON.stringify(requestBody(request));
      for (let attempt = 1; ; attempt++) {
        call.logger?.debug("llm request", { url: shown, model: request.model, stream: request.stream, attempt });
        const response = await send(body, call.signal, request.stream);
        if (response.ok) {
          const isStream = (response.headers.get("content-type") ?? "").includes("text/event-stream");
          try {
            return isStream ? await readStream(response, request, call, scrub, options.who) : await readJson(response);
          } catch (error) {
            if (call.signal.aborted || error instanceof ApflowError) throw error;
            // Not retried: part of a streamed answer may already have been reported.
            throw new ApflowError(
              ErrorCode.EXECUTOR_FAILED,
              `${options.who}: the connection to ${shown} broke while reading the answer: ${scrub((error as Error).message)}`,
              { url: shown },
            );
          }
        }
        const text = scrub(await readText(response).catch(() => ""));
        const retryable = response.status === 429 || response.status >= 500;
        if (retryable && attempt <= maxRetries) {
          const asked = retryAfterMs(response.headers);
          if (asked === undefined || asked <= policy.maxDelayMs) {
            const delay = asked ?? retryDelayMs(attempt, policy);
            call.logger?.info("llm request will be retried", { status: response.status, delayMs: delay, attempt });
            await sleep(delay, call.signal);
            continue;
          }
        }
        throw statusError(response, text, attempt, shown, options.who);
      }
    },
  };

  async function readJson(response: Response): Promise<ChatCompletion> {
    const text = await readText(response);
    let reply: JsonValue;
    try {
      reply = JSON.parse(text) as JsonValue;
    } catch {
      throw malformed(`the answer is not JSON: ${scrub(excerpt(text, 200))}`);
    }
    const choice = firstChoice(reply);
    const message = isObject(choice?.message) ? choice.message : undefined;
    if (!choice || !message) throw malformed("the answer has no choices[0].message");
    return {
      content: typeof message.content === "string" ? message.content : "",
      model: isObject(reply) && typeof reply.model === "string" ? reply.model : "",
      usage: usageOf(isObject(reply) ? reply.usage : undefined),
      finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    };
  }

  function malformed(message: string): ApflowError {
    return new ApflowError(ErrorCode.EXECUTOR_FAILED, `${options.who}: ${shown} ${message}`, { url: shown });
  }
}

function requestBody(request: ChatRequest): JsonObject {
  const body: JsonObject = {
    model: request.model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    stream: request.stream,
  };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.responseFormat !== undefined) body.response_format = request.responseFormat;
  // Without this, OpenAI sends no token usage for streamed answers.
  if (request.stream) body.stream_options = { include_usage: true };
  return body;
}

/** Reads an SSE answer (`data: {...}` events, ending with `data: [DONE]`), reporting each piece. */
async function readStream(
  response: Response,
  request: ChatRequest,
  call: ChatCall,
  scrub: (text: string) => string,
  who: string,
): Promise<ChatCompletion> {
  let content = "";
  let model = "";
  let usage: ChatUsage | null = null;
  let finishReason: string | null = null;
  for await (const data of sseData(response.body!)) {
    if (data === "[DONE]") break;
    let chunk: JsonValue;
    try {
      chunk = JSON.parse(data) as JsonValue;
    } catch {
      call.logger?.warn("ignored a streamed event that is not JSON", { length: data.length });
      continue;
    }
    if (!isObject(chunk)) continue;
    if (isObject(chunk.error)) {
      const message = typeof chunk.error.message === "string" ? chunk.error.message : "unknown error";
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `${who}: the stream reported an error: ${scrub(message)}`, {
        error: JSON.parse(scrub(JSON.stringify(redactSecrets(chunk.error)))) as JsonValue,
      });
    }
    if (typeof chunk.model === "string") model = chunk.model;
    usage = usageOf(chunk.usage) ?? usage;
    const choice = firstChoice(chunk);
    if (!choice) continue;
    if (typeof choice.finish_reason === "string") finishReason = choice.finish_reason;
    const delta = isObject(choice.delta) ? choice.delta.content : undefined;
    if (typeof delta === "string" && delta.length > 0) {
      content += delta;
      call.onDelta?.(delta, content);
    }
  }
  return { content, model: model || request.model, usage, finishReason };
}

/** The `data` of each server-sent event, multi-line data joined with newlines. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline !== -1) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (data.length > 0) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
        newline = buffer.indexOf("\n");
      }
      if (done) break;
    }
    if (buffer.startsWith("data:")) data.push(buffer.slice(buffer.startsWith("data: ") ? 6 : 5));
    if (data.length > 0) yield data.join("\n");
  } finally {
    // Stops the download when the caller stops early ([DONE], an error).
    await reader.cancel().catch(() => {});
  }
}

async function readText(response: Response): Promise<string> {
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_RESPONSE_BYTES) {
        throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `the answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).toString("utf8");
}

function statusError(response: Response, text: string, attempts: number, url: string, who: string): ApflowError {
  let reason = "";
  let body: JsonValue = excerpt(text, ERROR_BODY_CHARS);
  try {
    const parsed = JSON.parse(text) as JsonValue;
    body = redactSecrets(parsed);
    const error = isObject(parsed) ? parsed.error : undefined;
    const message = isObject(error) ? error.message : error;
    if (typeof message === "string") reason = `: ${excerpt(message, 500)}`;
  } catch {
    if (text.trim()) reason = `: ${excerpt(text.trim(), 200)}`;
  }
  const hint = response.status === 401 || response.status === 403 ? " (check the API key)" : "";
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `${who}: ${url} returned HTTP ${response.status}${tries}${reason}${hint}`,
    { status: response.status, url, attempts, body },
  );
}

/** Retry-After (seconds or an HTTP date) or OpenAI's retry-after-ms, in milliseconds. */
export function retryAfterMs(headers: Headers): number | undefined {
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.has("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (value.trim() !== "" && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function usageOf(value: JsonValue | undefined): ChatUsage | null {
  if (!isObject(value)) return null;
  const count = (key: string) => (typeof value[key] === "number" ? (value[key] as number) : 0);
  const promptTokens = count("prompt_tokens");
  const completionTokens = count("completion_tokens");
  return { promptTokens, completionTokens, totalTokens: count("total_tokens") || promptTokens + completionTokens };
}

/** Adds up usages; null only when none is known. */
export function addUsage(total: ChatUsage | null, more: ChatUsage | null): ChatUsage | null {
  if (!more) return total;
  if (!total) return { ...more };
  return {
    promptTokens: total.promptTokens + more.promptTokens,
    completionTokens: total.completionTokens + more.completionTokens,
    totalTokens: total.totalTokens + more.totalTokens,
  };
}

function firstChoice(reply: JsonValue): JsonObject | undefined {
  if (!isObject(reply) || !Array.isArray(reply.choices)) return undefined;
  const choice = reply.choices[0];
  return isObject(choice) ? choice : undefined;
}

/**
 * Parses a model's JSON answer, tolerating what models wrap around it: a Markdown code
 * fence, or prose before and after. Throws a SyntaxError when no JSON is found.
 */
export function parseJsonReply(text: string): JsonValue {
  const trimmed = text.trim();
  const fenced = /```(?:json|JSON)?\s*\n([\s\S]*?)\n?\s*```/.exec(trimmed);
  const candidates = [trimmed];
  if (fenced) candidates.push(fenced[1]!.trim());
  const start = trimmed.search(/[[{]/);
  if (start !== -1) {
    const end = Math.max(trimmed.lastIndexOf("}"), trimmed.lastIndexOf("]"));
    if (end > start) candidates.push(trimmed.slice(start, end + 1));
  }
  let failure: unknown;
  for (const candidate of candidates) {
    try {
      return JSON.parse(candidate) as JsonValue;
    } catch (error) {
      failure ??= error;
    }
  }
  throw failure;
}

function excerpt(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars)}...` : text;
}

/** `shownUrl` of an endpoint given as text, which may not parse. */
function shownEndpoint(url: string): string {
  try {
    return shownUrl(new URL(url));
  } catch {
    return "(invalid URL)";
  }
}
