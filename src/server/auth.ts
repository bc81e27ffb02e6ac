/**
 * Bearer-token authentication of the GraphQL endpoint (APFLOW_API_TOKEN). When a
 * token is configured, every HTTP request and every WebSocket connection must carry
 * it; anything else is refused (fail closed) with UNAUTHENTICATED.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CloseCode, type Context } from "graphql-ws";
import type { Extra } from "graphql-ws/use/ws";
import { ErrorCode } from "../core/errors.js";

export const UNAUTHENTICATED_MESSAGE =
  "This server requires its API token: send the header `Authorization: Bearer <APFLOW_API_TOKEN>` " +
  '(over WebSocket, the connection_init payload { "authorization": "Bearer <APFLOW_API_TOKEN>" }).';

/** The WebSocket close reason (at most 123 bytes) for a connection without the token. */
export const UNAUTHENTICATED_CLOSE_REASON =
  'UNAUTHENTICATED: send connection_init { "authorization": "Bearer <token>" }';

/**
 * True when `authorization` is `Bearer <token>`. Compares digests in constant time,
 * so neither the token nor its length leaks through timing.
 */
export function bearerTokenMatches(token: string, authorization: unknown): boolean {
  if (typeof authorization !== "string") return false;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (!match) return false;
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

/**
 * The GraphiQL page itself: a browser's GET for HTML that carries no operation. It
 * holds no data, so it is served without the token; every request it then sends
 * needs the token like any other (entered in GraphiQL's Headers tab).
 */
export function isGraphiQLPage(req: IncomingMessage): boolean {
  if (req.method !== "GET" || !req.headers.accept?.includes("text/html")) return false;
  return !new URL(req.url ?? "/", "http://localhost").searchParams.has("query");
}

/** Answers an unauthenticated GraphQL request the way GraphQL errors look. */
export function refuseUnauthenticated(res: ServerResponse): void {
  res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="apflow"' });
  res.end(
    JSON.stringify({ errors: [{ message: UNAUTHENTICATED_MESSAGE, extensions: { code: ErrorCode.UNAUTHENTICATED } }] }),
  );
}

/**
 * graphql-ws `onConnect`: accepts a connection whose connection_init payload holds
 * `authorization: "Bearer <token>"`; closes any other with 4401 and a reason saying
 * what to send (the close graphql-ws then attempts is ignored by a closing socket).
 */
export function authenticateConnection(
  token: string,
): (ctx: Context<Record<string, unknown> | undefined, Extra>) => boolean {
  return (ctx) => {
    if (bearerTokenMatches(token, ctx.connectionParams?.authorization)) return true;
    ctx.extra.socket.close(CloseCode.Unauthorized, UNAUTHENTICATED_CLOSE_REASON);
    return false;
  };
}
