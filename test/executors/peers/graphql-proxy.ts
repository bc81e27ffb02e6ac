/**
 * A proxy in front of a real apflow GraphQL server, for the apflow_api_executor tests:
 * it forwards HTTP and WebSocket traffic while recording request headers, and can break
 * things on purpose: refuse WebSocket upgrades (so the executor has to poll), cut the open
 * WebSockets (so it has to resume), or answer 401 quoting the token it received.
 */
import http from "node:http";
import net from "node:net";
import { listenOnLoopback } from "./loopback.js";

export type ProxyMode = "pass" | "refuse-ws" | "unauthorized";

export interface ProxiedRequest {
  kind: "http" | "upgrade";
  headers: http.IncomingHttpHeaders;
}

export interface GraphqlProxy {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  mode: ProxyMode;
  requests: ProxiedRequest[];
  /** Closes every WebSocket connection now open (new ones still work). */
  cutWebSockets(): void;
  close(): Promise<void>;
}

export async function startGraphqlProxy(target: string): Promise<GraphqlProxy> {
  const upstream = new URL(target);
  const tunnels = new Set<net.Socket>();
  const proxy = { mode: "pass", requests: [] as ProxiedRequest[] } as GraphqlProxy;

  const server = http.createServer((req, res) => {
    proxy.requests.push({ kind: "http", headers: req.headers });
    if (proxy.mode === "unauthorized") {
      res.writeHead(401, { "content-type": "text/plain" });
      res.end(`token rejected: ${req.headers.authorization ?? "(none)"}`);
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });

  server.on("upgrade", (req, socket, head) => {
    proxy.requests.push({ kind: "upgrade", headers: req.headers });
    if (proxy.mode !== "pass") {
      socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const far = net.connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      far.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) far.write(head);
      socket.pipe(far);
      far.pipe(socket);
    });
    const near = socket as net.Socket;
    tunnels.add(near);
    tunnels.add(far);
    const end = () => {
      near.destroy();
      far.destroy();
      tunnels.delete(near);
      tunnels.delete(far);
    };
    near.on("close", end);
    far.on("close", end);
    near.on("error", end);
    far.on("error", end);
  });

  const listening = await listenOnLoopback(server);
  proxy.url = `http://127.0.0.1:${listening.port}${upstream.pathname}`;
  proxy.cutWebSockets = () => {
    for (const socket of tunnels) socket.destroy();
  };
  proxy.close = async () => {
    proxy.cutWebSockets();
    await listening.close();
  };
  return proxy;
}
