/**
 * Redirects as rest_executor and scrape_executor follow them: one hop at a time, so that
 * the caller checks every target with the private-address guard before requesting it.
 */
import type { IncomingMessage } from "node:http";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { shownUrl } from "./shown-url.js";

export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Where `response`, the answer for `url` after `redirects` earlier hops, redirects to; null
 * when it is no redirect. A redirect's body is dropped. Too many hops fail the request that
 * started the exchange (`method` `first`), as does a location that is not a URL.
 */
export function redirectTarget(
  response: IncomingMessage,
  url: URL,
  redirects: number,
  method: string,
  first: URL,
): URL | null {
  const location = response.headers.location;
  if (!REDIRECT_STATUSES.has(response.statusCode ?? 0) || location === undefined) return null;
  response.resume();
  if (redirects === MAX_REDIRECTS) {
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `${method} ${shownUrl(first)}: too many redirects`, {
      maxRedirects: MAX_REDIRECTS,
    });
  }
  try {
    return new URL(location, url);
  } catch {
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `${shownUrl(url)} redirected to an invalid URL`, { location });
  }
}
