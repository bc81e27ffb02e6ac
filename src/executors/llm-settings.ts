/**
 * Where the LLM-based executors (llm, crew, batch crew, generate) send their requests,
 * decided one way for all of them. The node's configured endpoint and key are trusted;
 * a task may name another endpoint, but then it goes through the SSRF guard and gets
 * only the key the task itself gives: the node's key is never sent to a URL a task chose.
 */
import { guardedFetch } from "./guarded-fetch.js";
import type { InputReader } from "./inputs.js";
import { createOpenAiClient, type OpenAiClient } from "./openai-client.js";
import type { ResolveHost } from "./url-guard.js";

export interface LlmOptions {
  /** The node's endpoint, up to the API version (APFLOW_LLM_BASE_URL). @defaultValue https://api.openai.com/v1 */
  baseUrl?: string;
  /** Key for the node's endpoint (APFLOW_LLM_API_KEY); never sent to an endpoint a task names. */
  apiKey?: string;
  /** Model used when a task names none (APFLOW_LLM_MODEL). */
  model?: string;
  /** Let a task-chosen baseUrl reach private, loopback and link-local addresses. @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Hosts a task-chosen baseUrl may reach despite the private-address guard (e.g. an internal gateway). */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guard (tests, custom resolvers). */
  resolve?: ResolveHost;
  /** Retries of a 429 or 5xx answer. @defaultValue 3 */
  maxRetries?: number;
  /** First retry delay (ms) before jitter; doubles each retry. @defaultValue 500 */
  retryBaseDelayMs?: number;
  /** Longest wait (ms) between retries; a server asking for longer fails the task at once. @defaultValue 30000 */
  maxRetryDelayMs?: number;
}

export const DEFAULT_LLM_BASE_URL = "https://api.openai.com/v1";

/** The inputSchema properties every LLM-based executor accepts. */
export const connectionProperties = {
  baseUrl: {
    type: "string",
    format: "uri",
    description:
      "OpenAI-compatible API base URL up to the version, e.g. http://localhost:11434/v1; defaults to the node's " +
      "configured endpoint. Another endpoint is reached only at public addresses and never gets the node's key.",
  },
  apiKey: {
    type: "string",
    description: "API key sent as a Bearer token; defaults to the node's key when using the node's endpoint.",
  },
  model: { type: "string", minLength: 1, description: "Model name; defaults to the node's configured model." },
} as const;

export interface LlmConnection {
  baseUrl: string;
  /** The task's model, else the node's; undefined when neither is set. */
  model: string | undefined;
  client: OpenAiClient;
}

/** Reads baseUrl, apiKey and model (problems go to `reader`) and builds the client for them. */
export function readConnection(reader: InputReader, options: LlmOptions, who: string): LlmConnection {
  const configuredText = options.baseUrl ?? DEFAULT_LLM_BASE_URL;
  const configured = parseBaseUrl(configuredText) ?? normalizeBaseUrl(configuredText);
  const given = reader.string("baseUrl", { nonEmpty: true });
  let baseUrl = configured;
  if (given !== undefined) {
    const parsed = parseBaseUrl(given);
    if (parsed === undefined) reader.problem("baseUrl", "must be an absolute http or https URL");
    else baseUrl = parsed;
  }
  const trusted = baseUrl === configured;
  const apiKey = reader.string("apiKey") ?? (trusted ? options.apiKey : undefined);
  const model = reader.string("model", { nonEmpty: true }) ?? options.model;
  const fetch = guardedFetch(
    {
      allowPrivate: trusted || (options.allowPrivateUrls ?? false),
      allowedHosts: options.allowedHosts,
      resolve: options.resolve,
    },
    who,
  );
  const client = createOpenAiClient({
    baseUrl,
    apiKey: apiKey || undefined,
    fetch,
    who,
    maxRetries: options.maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs,
    maxRetryDelayMs: options.maxRetryDelayMs,
  });
  return { baseUrl, model, client };
}

/** Requires a model from the inputs or the node, as one more problem when missing. */
export function requireModel(reader: InputReader, connection: LlmConnection, key = "model"): string {
  if (connection.model === undefined) {
    reader.problem(key, "is required: no model is configured on this node (APFLOW_LLM_MODEL)");
    return "";
  }
  return connection.model;
}

/** Reads temperature (0..2) and maxTokens, shared by every LLM-based executor. */
export function readSampling(reader: InputReader): { temperature?: number; maxTokens?: number } {
  const temperature = reader.raw("temperature");
  let value: number | undefined;
  if (temperature !== undefined) {
    if (typeof temperature !== "number" || temperature < 0 || temperature > 2) {
      reader.problem("temperature", "must be a number from 0 to 2");
    } else {
      value = temperature;
    }
  }
  return { temperature: value, maxTokens: reader.integer("maxTokens", 1) };
}

export const samplingProperties = {
  temperature: {
    type: "number",
    minimum: 0,
    maximum: 2,
    description: "Sampling temperature; the server's default when unset.",
  },
  maxTokens: { type: "integer", minimum: 1, description: "Most tokens to generate per answer (`max_tokens`)." },
} as const;

function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

function parseBaseUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return normalizeBaseUrl(url.toString());
  } catch {
    return undefined;
  }
}
