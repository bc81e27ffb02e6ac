/**
 * A fake Docker Engine for the docker_executor tests: no engine runs here, so this serves
 * the endpoints the executor uses on a unix socket in a temporary directory, with the
 * engine's status codes, error bodies and multiplexed log format. A container "runs" a
 * tiny program chosen by its Cmd (echo, fail, sleep, ...). Every call is recorded.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

export interface EngineCall {
  method: string;
  /** Without the /vX.Y prefix and the query string, e.g. /containers/create. */
  path: string;
  /** The /vX.Y prefix's version, null when the call had none. */
  version: string | null;
  query: Record<string, string>;
  body: unknown;
}

interface Frame {
  stream: 1 | 2;
  text: string;
}

export interface FakeContainer {
  id: string;
  name: string;
  config: Record<string, unknown>;
  state: "created" | "running" | "exited";
  exitCode: number;
  oomKilled: boolean;
  output: Frame[];
  waiters: ((code: number) => void)[];
  timer?: NodeJS.Timeout;
}

export interface FakeEngine {
  socketPath: string;
  calls: EngineCall[];
  /** Images present on the engine, as name:tag. */
  images: Set<string>;
  /** Images a pull can fetch, as name:tag; "broken:1" fails in the middle of the stream. */
  registry: Set<string>;
  containers: Map<string, FakeContainer>;
  /** "METHOD /path" of every call, in order, ids replaced by {id}. */
  sequence(): string[];
  close(): Promise<void>;
}

export async function startFakeEngine(options: { apiVersion?: string } = {}): Promise<FakeEngine> {
  const dir = await mkdtemp(path.join(tmpdir(), "apflow-docker-"));
  const socketPath = path.join(dir, "docker.sock");
  const calls: EngineCall[] = [];
  const images = new Set<string>(["alpine:3.20"]);
  const registry = new Set<string>(["alpine:3.20", "busybox:latest", "broken:1"]);
  const containers = new Map<string, FakeContainer>();
  const apiVersion = options.apiVersion ?? "1.45";

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://docker");
      const versioned = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
      const text = Buffer.concat(chunks).toString("utf8");
      const call: EngineCall = {
        method: req.method ?? "",
        path: versioned ? versioned[2]! : url.pathname,
        version: versioned ? versioned[1]! : null,
        query: Object.fromEntries(url.searchParams),
        body: text ? JSON.parse(text) : undefined,
      };
      calls.push(call);
      try {
        route(call, req, res);
      } catch (error) {
        sendJson(res, 500, { message: String(error) });
      }
    });
  });

  function route(call: EngineCall, _req: IncomingMessage, res: ServerResponse) {
    const { method, path: p, query } = call;
    if (method === "GET" && p === "/_ping") {
      res.writeHead(200, { "content-type": "text/plain", "api-version": apiVersion });
      res.end("OK");
      return;
    }
    if (method === "GET" && p === "/version") {
      return sendJson(res, 200, { Version: "26.1.4", ApiVersion: apiVersion, MinAPIVersion: "1.24", Os: "linux" });
    }
    if (method === "POST" && p === "/images/create") return pull(query, res);
    if (method === "POST" && p === "/containers/create") return create(call, res);
    const match = /^\/containers\/([^/]+)(?:\/(\w+))?$/.exec(p);
    if (!match) return sendJson(res, 404, { message: "page not found" });
    const ref = decodeURIComponent(match[1]!);
    const container = containers.get(ref) ?? [...containers.values()].find((c) => c.name === ref);
    if (!container) return sendJson(res, 404, { message: `No such container: ${ref}` });
    const action = `${method} ${match[2] ?? ""}`;
    switch (action) {
      case "POST start":
        if (container.state !== "created") {
          res.writeHead(304);
          res.end();
          return;
        }
        run(container);
        res.writeHead(204);
        res.end();
        return;
      case "POST wait":
        if (container.state === "exited") return sendJson(res, 200, { StatusCode: container.exitCode, Error: null });
        container.waiters.push((code) => sendJson(res, 200, { StatusCode: code, Error: null }));
        return;
      case "GET logs":
        return logs(container, res);
      case "GET json":
        return sendJson(res, 200, {
          Id: container.id,
          Name: `/${container.name}`,
          State: {
            Status: container.state,
            Running: container.state === "running",
            ExitCode: container.exitCode,
            OOMKilled: container.oomKilled,
          },
        });
      case "POST kill":
        if (container.state !== "running") {
          return sendJson(res, 409, {
            message: `Cannot kill container: ${ref}: Container ${container.id} is not running`,
          });
        }
        exit(container, 137);
        res.writeHead(204);
        res.end();
        return;
      case "POST stop":
        if (container.state !== "running") {
          res.writeHead(304);
          res.end();
          return;
        }
        exit(container, 143);
        res.writeHead(204);
        res.end();
        return;
      case "DELETE ":
        if (container.state === "running" && query.force !== "true") {
          return sendJson(res, 409, {
            message: `You cannot remove a running container ${container.id}. Stop the container before attempting removal or force remove`,
          });
        }
        if (container.state === "running") exit(container, 137);
        containers.delete(container.id);
        res.writeHead(204);
        res.end();
        return;
      default:
        return sendJson(res, 404, { message: "page not found" });
    }
  }

  function pull(query: Record<string, string>, res: ServerResponse) {
    const image = query.tag ? `${query.fromImage}:${query.tag}` : (query.fromImage ?? "");
    if (!registry.has(image)) {
      return sendJson(res, 404, {
        message: `pull access denied for ${query.fromImage}, repository does not exist or may require 'docker login'`,
      });
    }
    res.writeHead(200, { "content-type": "application/json" });
    const line = (value: unknown) => res.write(`${JSON.stringify(value)}\r\n`);
    line({ status: `Pulling from library/${query.fromImage}`, id: query.tag });
    line({ status: "Downloading", progressDetail: { current: 10, total: 100 }, id: "abc123" });
    if (image === "broken:1") {
      line({ errorDetail: { message: "unexpected EOF" }, error: "unexpected EOF" });
      res.end();
      return;
    }
    line({ status: "Download complete", progressDetail: {}, id: "abc123" });
    images.add(image);
    // The last line without a newline: the client must read it anyway.
    res.end(JSON.stringify({ status: `Status: Downloaded newer image for ${image}` }));
  }

  function create(call: EngineCall, res: ServerResponse) {
    const config = call.body as Record<string, unknown>;
    const name = call.query.name ?? randomBytes(6).toString("hex");
    const env = (config.Env as string[] | undefined) ?? [];
    if (env.includes("FAKE_REJECT=1")) {
      // Like the engine's own messages, it quotes the configuration back.
      return sendJson(res, 400, { message: `invalid environment: ${env.join(" ")}` });
    }
    if ([...containers.values()].some((c) => c.name === name)) {
      return sendJson(res, 409, { message: `Conflict. The container name "/${name}" is already in use` });
    }
    const image = normalizeImage(String(config.Image));
    if (!images.has(image)) return sendJson(res, 404, { message: `No such image: ${image}` });
    const id = randomBytes(32).toString("hex");
    containers.set(id, {
      id,
      name,
      config,
      state: "created",
      exitCode: 0,
      oomKilled: false,
      output: [],
      waiters: [],
    });
    // The engine made the container but its answer is late: a client giving up now never learns the id.
    if (env.includes("FAKE_SLOW_CREATE=1"))
      setTimeout(() => sendJson(res, 201, { Id: id, Warnings: [] }), 30_000).unref();
    else sendJson(res, 201, { Id: id, Warnings: [] });
  }

  /** The container's "program", chosen by Cmd[0]. */
  function run(container: FakeContainer) {
    container.state = "running";
    const [program = "default", ...args] = (container.config.Cmd as string[] | undefined) ?? [];
    const out = (text: string) => container.output.push({ stream: 1, text });
    const err = (text: string) => container.output.push({ stream: 2, text });
    const finish = (code: number) => {
      setImmediate(() => exit(container, code));
    };
    switch (program) {
      case "echo":
        out(`${args.join(" ")}\n`);
        return finish(0);
      case "fail":
        out("working\n");
        err(`${args[1] ?? "failed"}\n`);
        return finish(Number(args[0] ?? 1));
      case "mixed":
        out("line 1\n");
        err("warning 1\n");
        out("line 2\n");
        err("warning 2\n");
        return finish(0);
      case "big":
        for (let i = 0; i < Number(args[0] ?? 0) / 1000; i++) out("x".repeat(1000));
        return finish(0);
      case "env":
        out(`${((container.config.Env as string[]) ?? []).join("\n")}\n`);
        return finish(0);
      case "oom":
        container.oomKilled = true;
        return finish(137);
      case "sleep":
        container.timer = setTimeout(() => exit(container, 0), Number(args[0] ?? 60_000));
        return;
      default:
        out(`hello from ${container.config.Image}\n`);
        return finish(0);
    }
  }

  function exit(container: FakeContainer, code: number): void {
    if (container.state === "exited") return;
    clearTimeout(container.timer);
    container.state = "exited";
    container.exitCode = code;
    for (const waiter of container.waiters.splice(0)) waiter(code);
  }

  /** The multiplexed stream, written in awkward pieces (a header cut in two) as a network may deliver it. */
  function logs(container: FakeContainer, res: ServerResponse): void {
    const frames = container.output.map(({ stream, text }) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    });
    const all = Buffer.concat(frames);
    res.writeHead(200, { "content-type": "application/vnd.docker.multiplexed-stream" });
    let offset = 0;
    for (const size of [3, 7, 11]) {
      if (offset >= all.length) break;
      res.write(all.subarray(offset, offset + size));
      offset += size;
    }
    for (; offset < all.length; offset += 64 * 1024) res.write(all.subarray(offset, offset + 64 * 1024));
    res.end();
  }

  server.listen(socketPath);
  await once(server, "listening");
  return {
    socketPath,
    calls,
    images,
    registry,
    containers,
    sequence: () => calls.map((c) => `${c.method} ${c.path.replace(/[0-9a-f]{64}|apflow-[\w.-]+/, "{id}")}`),
    async close() {
      for (const container of containers.values()) clearTimeout(container.timer);
      server.closeAllConnections();
      server.close();
      await once(server, "close");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function normalizeImage(image: string): string {
  if (image.includes("@")) return image;
  return image.lastIndexOf(":") > image.lastIndexOf("/") ? image : `${image}:latest`;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(`${JSON.stringify(value)}\n`);
}
