/**
 * One HTTP request to a task-chosen URL over a connection pinned to the addresses the
 * private-address guard checked (see address-guard.ts).
 * rest_executor, scrape_executor, apflow_api_executor (GraphQL), send_email_executor
 * (e-mail APIs) and guardedFetch all send this way.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { type CheckedUrl, pinnedLookup } from "./url-guard.js";

export interface PinnedRequest {
  method: string;
  /** Lower-case names; `content-length` is set here when there is a body. */
  headers: Record<string, string>;
  body?: Buffer;
  /** Verify the server's TLS certificate; unset leaves it to Node (NODE_TLS_REJECT_UNAUTHORIZED). */
  verifyTls?: boolean;
}

/**
 * Sends the request and resolves with the response. A connection error other than the
 * abort is rejected as `failed(error)`; a fresh connection is used, never a pooled one.
 */
export function requestPinned(
  target: CheckedUrl,
  { method, headers, body, verifyTls }: PinnedRequest,
  signal: AbortSignal | undefined,
  failed: (error: NodeJS.ErrnoException) => unknown,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = target.url.protocol === "https:" ? https : http;
    const request = client.request(
      target.url,
      {
        method,
        headers: body === undefined ? headers : { ...headers, "content-length": String(body.length) },
        signal,
        // A pooled socket may lead to an address this request never checked.
        agent: false,
        lookup: target.addresses ? pinnedLookup(target.addresses) : undefined,
        ...(verifyTls === undefined ? {} : { rejectUnauthorized: verifyTls }),
      },
      resolve,
    );
    // The abort is passed on as it is: the caller turns it into the abort reason.
    request.on("error", (error: NodeJS.ErrnoException) => reject(error.name === "AbortError" ? error : failed(error)));
    request.end(body);
  });
}
