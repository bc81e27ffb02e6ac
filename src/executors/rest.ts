/**
 * `rest_executor`: one HTTP(S) request, as a task. Built on node:http/https rather than
 * fetch because the SSRF guard needs what fetch hides: redirects handled one hop at a
 * time (each re-checked), and the socket pinned to the addresses the guard checked
 * (`lookup`), with per-request TLS verification, all without an extra dependency.
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { defineExecutor, type Executor, type Logger } from "../core/executor.js";
import { redactSecrets } from "../core/redact.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { guardOptions } from "./address-guard.js";
import { withDeadline } from "./deadline.js";
import { InputReader, MAX_TIMER_MS, type Scalar } from "./inputs.js";
import { requestPinned } from "./pinned-request.js";
import { MAX_REDIRECTS, redirectTarget } from "./redirects.js";
import { shownUrl } from "./shown-url.js";
import { checkUrl, type ResolveHost, type UrlGuardOptions } from "./url-guard.js";

export interface RestExecutorOptions {
  /** Allow loopback, private and link-local addresses (APFLOW_REST_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Host names or IP literals exempt from the private-address guard, e.g. a known internal API. */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guard (custom resolvers, tests). @defaultValue dns.lookup */
  resolve?: ResolveHost;
}

export interface RestResult extends JsonObject {
  status: number;
  /** Response headers, names lower-cased; `set-cookie` is an array. */
  headers: JsonObject;
  /** Parsed JSON for JSON content types, otherwise the body as UTF-8 text. */
  body: JsonValue;
}

const ID = "rest_executor";
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** How much of a failed response's body is kept in the error details. */
const ERROR_BODY_CHARS = 2000;
/** Headers that carry credentials: dropped when a redirect leaves the original origin. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

interface RestInputs {
  url: URL;
  method: string;
  headers: Record<string, string>;
  /** Lower-cased names of headers dropped on a cross-origin redirect. */
  credentialHeaders: string[];
  body: Buffer | undefined;
  timeoutMs: number;
  verifyTls: boolean;
  followRedirects: boolean;
  expectStatus: number[] | undefined;
  allowErrorStatus: boolean;
  maxResponseBytes: number;
}

const paramMapSchema = (description: string) => ({
  type: "object",
  additionalProperties: {
    oneOf: [
      { type: ["string", "number", "boolean"] },
      { type: "array", items: { type: ["string", "number", "boolean"] } },
    ],
  },
  description,
});

const inputSchema = {
  type: "object",
  properties: {
    url: { type: "string", format: "uri", description: "Absolute http or https URL to request." },
    method: { type: "string", enum: [...METHODS], default: "GET", description: "HTTP method." },
    headers: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Request headers (names are case-insensitive).",
    },
    query: paramMapSchema("Query parameters appended to the URL; an array value repeats the parameter."),
    json: { description: "A JSON request body (any JSON value); sets content-type application/json." },
    form: paramMapSchema("A form body, sent as application/x-www-form-urlencoded."),
    body: { type: "string", description: "A raw request body (text/plain unless a content-type header is given)." },
    auth: {
      description: "Credentials; sets the matching header (replacing one given in headers) or query parameter.",
      oneOf: [
        {
          type: "object",
          properties: {
            type: { const: "bearer" },
            token: { type: "string", description: "Sent as `Authorization: Bearer <token>`." },
          },
          required: ["type", "token"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: {
            type: { const: "basic" },
            username: { type: "string" },
            password: { type: "string" },
          },
          required: ["type", "username", "password"],
          additionalProperties: false,
        },
        {
          type: "object",
          properties: {
            type: { const: "apiKey" },
            value: { type: "string", description: "The API key." },
            in: { type: "string", enum: ["header", "query"], default: "header", description: "Where to send it." },
            header: { type: "string", default: "X-API-Key", description: "Header name, when in is header." },
            name: {
              type: "string",
              description:
                "Query parameter name when in is query (default api_key), or header name if header is unset.",
            },
          },
          required: ["type", "value"],
          additionalProperties: false,
        },
      ],
    },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_TIMEOUT_MS,
      description: "Limit for the whole exchange, redirects and body included; then the task fails with TIMEOUT.",
    },
    verifyTls: {
      type: "boolean",
      default: true,
      description: "Verify the server's TLS certificate; false accepts self-signed and invalid certificates.",
    },
    followRedirects: {
      type: "boolean",
      default: true,
      description: `Follow up to ${MAX_REDIRECTS} redirects, re-checking each target; false returns the 3xx response.`,
    },
    expectStatus: {
      oneOf: [
        { type: "integer", minimum: 100, maximum: 599 },
        { type: "array", items: { type: "integer", minimum: 100, maximum: 599 }, minItems: 1 },
      ],
      description: "Status code(s) that count as success, instead of any 2xx.",
    },
    allowErrorStatus: {
      type: "boolean",
      default: false,
      description: "Complete with the result whatever the status; by default a non-2xx status fails the task.",
    },
    maxResponseBytes: {
      type: "integer",
      minimum: 0,
      default: DEFAULT_MAX_RESPONSE_BYTES,
      description: "Largest (decoded) response body accepted; a larger one fails the task.",
    },
  },
  required: ["url"],
  additionalProperties: false,
};

/** Builds `rest_executor`; unless `allowPrivateUrls`, only public addresses are reachable. */
export function createRestExecutor(options: RestExecutorOptions = {}): Executor {
  const guard = guardOptions(options.allowPrivateUrls, options);
  return defineExecutor({
    id: ID,
    description:
      "Sends an HTTP request and returns { status, headers, body } (body parsed when the response is JSON, " +
      "otherwise text). A non-2xx status fails the task with EXECUTOR_FAILED unless expectStatus or " +
      "allowErrorStatus say otherwise. Private, loopback and link-local addresses are refused unless the node " +
      "allows them (APFLOW_REST_ALLOW_PRIVATE_URLS=1).",
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      // DNS lookups cannot be aborted: withDeadline's race makes cancelling and timing out prompt anyway.
      return withDeadline(
        ctx.signal,
        input.timeoutMs,
        () => `${input.method} ${shownUrl(input.url)} timed out after ${input.timeoutMs} ms`,
        (signal) => exchange(input, guard, signal, ctx.logger),
      );
    },
  });
}

async function exchange(input: RestInputs, guard: UrlGuardOptions, signal: AbortSignal, logger: Logger) {
  let url = input.url;
  let method = input.method;
  let body = input.body;
  const headers = { ...input.headers };
  for (let redirects = 0; ; redirects++) {
    const target = await checkUrl(url, guard);
    signal.throwIfAborted();
    logger.debug("http request", { method, url: shownUrl(url) });
    const response = await requestPinned(
      target,
      { method, headers, body, verifyTls: input.verifyTls },
      signal,
      (error) => networkError(error, method, target.url),
    );
    const status = response.statusCode ?? 0;
    const next = input.followRedirects ? redirectTarget(response, url, redirects, input.method, input.url) : null;
    if (next) {
      // As browsers do: 303 turns any request into GET, 301/302 turn POST into GET.
      if ((status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
        delete headers["content-type"];
        delete headers["content-length"];
      }
      if (next.origin !== url.origin) for (const name of input.credentialHeaders) delete headers[name];
      url = next;
      continue;
    }
    const raw = await readBody(response, input.maxResponseBytes, status);
    const result: RestResult = { status, headers: responseHeaders(response), body: parseBody(raw, response, logger) };
    const ok = input.allowErrorStatus || (input.expectStatus?.includes(status) ?? (status >= 200 && status < 300));
    if (!ok) throw statusError(method, url, result, input.expectStatus);
    return result;
  }
}

function networkError(error: NodeJS.ErrnoException, method: string, url: URL): ApflowError {
  const tlsHint = /certificate|self[- ]signed|CERT/i.test(`${error.code} ${error.message}`)
    ? " (set verifyTls: false to accept it)"
    : "";
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `${method} ${shownUrl(url)} failed: ${error.message}${tlsHint}`,
    { code: error.code ?? null },
    { cause: error },
  );
}

function decoderFor(encoding: string | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return zlib.createGunzip();
    case "deflate":
      return zlib.createInflate();
    case "br":
      return zlib.createBrotliDecompress();
    default:
      return null;
  }
}

/** Reads the body, decoded, failing as soon as it grows past `max` bytes. */
async function readBody(response: IncomingMessage, max: number, status: number): Promise<Buffer> {
  const tooLarge = () =>
    new ApflowError(ErrorCode.EXECUTOR_FAILED, `response body is larger than maxResponseBytes (${max} bytes)`, {
      status,
      maxResponseBytes: max,
    });
  const decoder = decoderFor(response.headers["content-encoding"]);
  const declared = Number(response.headers["content-length"]);
  if (!decoder && Number.isFinite(declared) && declared > max) {
    response.destroy();
    throw tooLarge();
  }
  let stream: Readable = response;
  if (decoder) {
    response.on("error", (error) => decoder.destroy(error));
    stream = response.pipe(decoder);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > max) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
  } finally {
    if (size > max || !response.complete) {
      response.destroy();
      decoder?.destroy();
    }
  }
  return Buffer.concat(chunks);
}

function isJsonType(contentType: string | undefined): boolean {
  return /^application\/([\w.+-]+\+)?json\b/i.test(contentType?.trim() ?? "");
}

function parseBody(raw: Buffer, response: IncomingMessage, logger: Logger): JsonValue {
  const text = raw.toString("utf8");
  if (!isJsonType(response.headers["content-type"])) return text;
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    logger.warn("response declared JSON but did not parse; returning text", { status: response.statusCode });
    return text;
  }
}

function responseHeaders(response: IncomingMessage): JsonObject {
  const headers: JsonObject = {};
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = value;
  return headers;
}

function statusError(method: string, url: URL, result: RestResult, expected: number[] | undefined): ApflowError {
  const wanted = expected ? ` (expected ${expected.join(" or ")})` : "";
  const body = redactSecrets(result.body);
  const excerpt = typeof body === "string" ? body : JSON.stringify(body);
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `${method} ${shownUrl(url)} returned HTTP ${result.status}${wanted}`,
    {
      status: result.status,
      url: shownUrl(url),
      body: excerpt.length > ERROR_BODY_CHARS ? `${excerpt.slice(0, ERROR_BODY_CHARS)}...` : excerpt,
    },
  );
}

function readInputs(raw: JsonObject): RestInputs {
  const reader = new InputReader(ID, raw);
  const urlText = reader.string("url", { required: true, nonEmpty: true });
  let url: URL | undefined;
  if (urlText !== undefined) {
    try {
      url = new URL(urlText);
    } catch {
      reader.problem("url", "must be an absolute http or https URL");
    }
  }
  const methodText = reader.string("method");
  const method = (methodText ?? "GET").toUpperCase();
  if (!(METHODS as readonly string[]).includes(method))
    reader.problem("method", `must be one of ${METHODS.join(", ")}`);

  const headers: Record<string, string> = { "user-agent": "apflow", accept: "*/*" };
  for (const [name, value] of Object.entries(reader.stringMap("headers") ?? {})) headers[name.toLowerCase()] = value;
  const credentialHeaders = [...CREDENTIAL_HEADERS];

  const query = reader.paramMap("query");
  if (url && query) appendParams(url.searchParams, query);

  const body = requestBody(reader, headers);
  applyAuth(reader, headers, credentialHeaders, url);

  const timeoutMs = reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS;
  const verifyTls = reader.boolean("verifyTls") ?? true;
  const followRedirects = reader.boolean("followRedirects") ?? true;
  const expectStatus = readExpectStatus(reader);
  const allowErrorStatus = reader.boolean("allowErrorStatus") ?? false;
  const maxResponseBytes = reader.integer("maxResponseBytes", 0) ?? DEFAULT_MAX_RESPONSE_BYTES;
  reader.finish();
  return {
    url: url!, // set: a missing or invalid url is a problem, and finish() threw
    method,
    headers,
    credentialHeaders,
    body,
    timeoutMs,
    verifyTls,
    followRedirects,
    expectStatus,
    allowErrorStatus,
    maxResponseBytes,
  };
}

function appendParams(params: URLSearchParams, values: Record<string, Scalar | Scalar[]>): void {
  for (const [name, value] of Object.entries(values)) {
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
}

/** The request body from json, form or body (at most one), setting its content-type if none was given. */
function requestBody(reader: InputReader, headers: Record<string, string>): Buffer | undefined {
  const given = ["json", "form", "body"].filter((key) => reader.raw(key) !== undefined);
  if (given.length > 1) {
    reader.problem(given[1]!, `cannot be combined with ${given[0]}: give one of json, form or body`);
    return undefined;
  }
  const setType = (type: string) => {
    headers["content-type"] ??= type;
  };
  const json = reader.raw("json");
  if (json !== undefined) {
    setType("application/json");
    return Buffer.from(JSON.stringify(json));
  }
  const form = reader.paramMap("form");
  if (form !== undefined) {
    const params = new URLSearchParams();
    appendParams(params, form);
    setType("application/x-www-form-urlencoded");
    return Buffer.from(params.toString());
  }
  const body = reader.string("body");
  if (body !== undefined) {
    setType("text/plain; charset=utf-8");
    return Buffer.from(body);
  }
  return undefined;
}

function applyAuth(reader: InputReader, headers: Record<string, string>, credentialHeaders: string[], url?: URL): void {
  const auth = reader.object("auth");
  if (auth === undefined) return;
  const text = (key: string, required: boolean): string | undefined => {
    const value = auth[key];
    if (typeof value === "string") return value;
    if (value !== undefined || required)
      reader.problem(`auth.${key}`, required ? "is required (a string)" : "must be a string");
    return undefined;
  };
  switch (auth.type) {
    case "bearer": {
      const token = text("token", true);
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      return;
    }
    case "basic": {
      const username = text("username", true);
      const password = text("password", true);
      if (username !== undefined && password !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
      }
      return;
    }
    case "apiKey": {
      const value = text("value", true);
      const place = auth.in ?? "header";
      const header = text("header", false);
      const name = text("name", false);
      if (place !== "header" && place !== "query") reader.problem("auth.in", 'must be "header" or "query"');
      if (value === undefined) return;
      if (place === "query") {
        url?.searchParams.set(name ?? "api_key", value);
      } else {
        const headerName = (header ?? name ?? "X-API-Key").toLowerCase();
        headers[headerName] = value;
        credentialHeaders.push(headerName);
      }
      return;
    }
    default:
      reader.problem("auth.type", 'must be "bearer", "basic" or "apiKey"');
  }
}

function readExpectStatus(reader: InputReader): number[] | undefined {
  const value = reader.raw("expectStatus");
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  const valid =
    list.length > 0 && list.every((s) => typeof s === "number" && Number.isInteger(s) && s >= 100 && s <= 599);
  if (!valid) {
    reader.problem("expectStatus", "must be a status code (100-599) or a non-empty array of them");
    return undefined;
  }
  return list as number[];
}
