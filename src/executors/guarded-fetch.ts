/**
 * A `fetch` for executors whose URL comes from task inputs (MCP over HTTP, LLM
 * endpoints), behind the same SSRF guard as `rest_executor`. The global fetch cannot
 * pin its connection to the addresses the guard checked, so this one is node:http
 * underneath: every request is checked (a redirect is returned, not followed, so a
 * follow-up request is checked again) and its socket connects only to the checked
 * addresses. The response is a standard `Response` whose body streams (SSE works).
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { checkUrlAs } from "./address-guard.js";
import { requestPinned } from "./pinned-request.js";
import type { UrlGuardOptions } from "./url-guard.js";

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Statuses whose response must not have a body (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A fetch that refuses non-public addresses unless `guard.allowPrivate`. `who` names the
 * executor in the refusal. Supports string and byte bodies, which is all its callers send.
 */
export function guardedFetch(guard: UrlGuardOptions, who: string): FetchLike {
  return async (input, init = {}) => {
    const url = new URL(String(input));
    const target = await checkUrlAs(url, guard, who);
    init.signal?.throwIfAborted();
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const response = await requestPinned(
      target,
      { method: init.method ?? "GET", headers, body: requestBody(init.body) },
      init.signal ?? undefined,
      // Passed on as they are, as from fetch: its callers (MCP, LLM clients) word their own errors.
      (error) => error,
    );
    const status = response.statusCode ?? 0;
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
        responseHeaders.append(name, item);
      }
    }
    if (NULL_BODY_STATUSES.has(status)) {
      response.resume();
      return new Response(null, { status, headers: responseHeaders });
    }
    const stream = Readable.toWeb(response) as NodeReadableStream<Uint8Array>;
    return new Response(stream as unknown as ReadableStream<Uint8Array>, {
      status,
      statusText: response.statusMessage,
      headers: responseHeaders,
    });
  };
}

function requestBody(body: RequestInit["body"]): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  throw new TypeError("guardedFetch sends only string and byte bodies");
}
