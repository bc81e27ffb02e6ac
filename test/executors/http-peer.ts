/**
 * Real HTTP and HTTPS servers on loopback for the rest_executor tests: each route is a
 * behaviour the executor must handle (JSON, echo, errors, slowness, redirects, big and
 * compressed bodies), and every request is recorded so tests can see what arrived.
 */
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { gzipSync } from "node:zlib";
import { listenOnLoopback } from "./peers/loopback.js";
import { selfSignedCert } from "./tls-cert.js";

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set when the client went away before the response was finished. */
  closedEarly: boolean;
}

export interface Peer {
  /** e.g. http://127.0.0.1:40123 */
  origin: string;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, value: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(value));
}

async function route(req: IncomingMessage, res: ServerResponse, seen: SeenRequest): Promise<void> {
  const url = new URL(req.url ?? "/", "http://peer");
  const param = (name: string) => url.searchParams.get(name);
  switch (url.pathname) {
    case "/json":
      return json(res, 200, { hello: "world", n: 1 });
    case "/text":
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("plain text");
      return;
    case "/problem-json":
      return json(res, 200, { ok: true }, { "content-type": "application/problem+json" });
    case "/empty":
      res.writeHead(204);
      res.end();
      return;
    case "/echo":
      return json(res, 200, {
        method: req.method,
        headers: req.headers,
        query: [...url.searchParams.entries()],
        body: seen.body,
      });
    case "/status":
      return json(res, Number(param("code") ?? 500), { error: "boom", token: "server-secret-token" });
    case "/slow":
      // Answers after `ms`, or never; `closedEarly` tells whether the client hung up.
      await new Promise((resolve) => setTimeout(resolve, Number(param("ms") ?? 60_000)));
      if (!res.destroyed) json(res, 200, { slow: true });
      return;
    case "/slow-body": {
      // Headers at once, then the body never finishes.
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
      return;
    }
    case "/redirect":
      res.writeHead(Number(param("status") ?? 302), { location: param("to") ?? "/json" });
      res.end();
      return;
    case "/loop":
      res.writeHead(302, { location: `/loop?n=${Number(param("n") ?? 0) + 1}` });
      res.end();
      return;
    case "/large": {
      const bytes = Number(param("bytes") ?? 1024);
      const chunked = param("chunked") === "1";
      res.writeHead(
        200,
        chunked ? { "content-type": "text/plain" } : { "content-type": "text/plain", "content-length": bytes },
      );
      const chunk = Buffer.alloc(64 * 1024, "x");
      for (let sent = 0; sent < bytes && !res.destroyed; sent += chunk.length) {
        if (!res.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent))))
          await once(res, "drain").catch(() => {});
      }
      res.end();
      return;
    }
    case "/gzip":
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(JSON.stringify({ compressed: true })));
      return;
    default:
      return json(res, 404, { error: "not found" });
  }
}

function handler(requests: SeenRequest[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const seen: SeenRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        closedEarly: false,
      };
      requests.push(seen);
      res.on("close", () => {
        if (!res.writableFinished) seen.closedEarly = true;
      });
      route(req, res, seen).catch((error) => res.destroy(error));
    });
  };
}

async function listen(server: http.Server, requests: SeenRequest[], scheme: string): Promise<Peer> {
  const { port, close } = await listenOnLoopback(server);
  return { origin: `${scheme}://127.0.0.1:${port}`, port, requests, close };
}

export function startHttpPeer(): Promise<Peer> {
  const requests: SeenRequest[] = [];
  return listen(http.createServer(handler(requests)), requests, "http");
}

export function startHttpsPeer(): Promise<Peer> {
  const requests: SeenRequest[] = [];
  return listen(https.createServer(selfSignedCert(), handler(requests)), requests, "https");
}
