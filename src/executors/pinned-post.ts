/**
 * A JSON POST to a task-chosen URL over a connection pinned to the addresses the
 * private-address guard checked (see address-guard.ts), and a bounded read of the answer.
 * apflow_api_executor (GraphQL) and send_email_executor (e-mail APIs) both send this way.
 */

import type { LookupAddress } from "node:dns";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { ApflowError } from "../core/errors.js";
import { pinnedLookup } from "./url-guard.js";

/**
 * Sends `body` and resolves with the response. A connection error other than the abort is
 * rejected as `failed(error)`; a fresh connection is used, never a pooled one.
 */
export function postPinned(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  addresses: LookupAddress[] | null,
  signal: AbortSignal,
  failed: (error: NodeJS.ErrnoException) => ApflowError,
): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const request = (url.protocol === "https:" ? https : http).request(
      url,
      {
        method: "POST",
        headers,
        signal,
        agent: false,
        lookup: addresses ? pinnedLookup(addresses) : undefined,
      },
      resolve,
    );
    request.on("error", (error: NodeJS.ErrnoException) => reject(error.name === "AbortError" ? error : failed(error)));
    request.end(body);
  });
}

/**
 * The response body as text, at most `maxBytes`. Past that the response is destroyed and
 * `tooLarge()` thrown, or, without `tooLarge`, what came up to the chunk that went over is kept.
 */
export async function readText(response: IncomingMessage, maxBytes: number, tooLarge?: () => Error): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      response.destroy();
      if (tooLarge) throw tooLarge();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
