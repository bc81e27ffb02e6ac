/**
 * The few Docker Engine API calls `docker_executor` needs, over node:http on the engine's
 * unix socket (or a tcp host). Written here rather than taken from a Docker SDK: the
 * calls are few and stable, and a dependency that talks to the daemon (root on the host)
 * should be small enough to read. The API version is negotiated as the docker CLI does.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { CappedOutput } from "./output-cap.js";
import { readText } from "./response-text.js";

/** Newest API version this client speaks; a newer engine still serves it. */
const MAX_API_VERSION = "1.47";
/** Oldest engine API accepted (Docker 19.03): wait conditions, NanoCpus, multiplexed logs. */
const MIN_API_VERSION = "1.40";
/** JSON answers of the engine are small; a larger one is not an engine talking. */
const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** Docker's multiplexed stream frame header: stream type (1 byte), 3 zero bytes, payload size (4 bytes BE). */
const FRAME_HEADER_BYTES = 8;

export interface DockerEndpoint {
  /** Path of the engine's unix socket. Ignored when `host` is set. */
  socketPath?: string;
  /** tcp://, http:// or https:// URL of the engine. */
  host?: string;
}

/** A failed engine call: `status` is the HTTP status, 0 when the engine could not be reached. */
export class DockerApiError extends Error {
  override readonly name = "DockerApiError";
  constructor(
    readonly status: number,
    message: string,
    /** The socket error code (ENOENT, ECONNREFUSED, ...) when the engine was not reached. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ContainerSpec {
  Image: string;
  Cmd?: string[];
  Entrypoint?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string>;
  AttachStdin: false;
  AttachStdout: false;
  AttachStderr: false;
  Tty: false;
  HostConfig: {
    Binds?: string[];
    NanoCpus?: number;
    Memory?: number;
    NetworkMode?: string;
    AutoRemove: boolean;
  };
}

export interface ContainerLogs {
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went over the limit and was cut. */
  truncated: boolean;
}

export interface ContainerState {
  Status?: string;
  Running?: boolean;
  OOMKilled?: boolean;
  ExitCode?: number;
}

interface CallOptions {
  query?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
}

export class DockerApi {
  private readonly socketPath: string | undefined;
  private readonly baseUrl: URL | undefined;
  private prefix: string | undefined;

  constructor(endpoint: DockerEndpoint) {
    if (endpoint.host) {
      this.baseUrl = new URL(endpoint.host.replace(/^tcp:\/\//i, "http://"));
      if (this.baseUrl.protocol !== "http:" && this.baseUrl.protocol !== "https:") {
        throw new Error(`Docker host must be a tcp://, http:// or https:// URL, not ${this.baseUrl.protocol}`);
      }
    } else {
      this.socketPath = (endpoint.socketPath ?? "/var/run/docker.sock").replace(/^unix:\/\//i, "");
    }
  }

  /** Where the engine is, for messages. */
  get location(): string {
    return this.baseUrl ? this.baseUrl.origin : `unix://${this.socketPath}`;
  }

  /** Pins the API version to min(engine's, ours); refuses engines older than MIN_API_VERSION. */
  async negotiate(signal: AbortSignal): Promise<string> {
    const version = (await this.json("GET", "/version", { signal })) as { ApiVersion?: string; Version?: string };
    const engine = version.ApiVersion ?? MIN_API_VERSION;
    if (compareVersions(engine, MIN_API_VERSION) < 0) {
      throw new DockerApiError(
        0,
        `Docker Engine ${version.Version ?? "?"} (API ${engine}) is too old: API ${MIN_API_VERSION} or later is needed`,
      );
    }
    const chosen = compareVersions(engine, MAX_API_VERSION) > 0 ? MAX_API_VERSION : engine;
    this.prefix = `/v${chosen}`;
    return chosen;
  }

  /**
   * Pulls an image. The engine answers 200 at once and then streams JSON progress lines;
   * a failure during the pull arrives as an `error` line inside that 200 response.
   */
  async pullImage(image: string, signal: AbortSignal, onStatus?: (status: string) => void): Promise<void> {
    const response = await this.open("POST", "/images/create", { query: pullQuery(image), signal });
    let pending = "";
    let failure: string | undefined;
    const line = (text: string) => {
      if (text.trim() === "") return;
      try {
        const message = JSON.parse(text) as { status?: string; error?: string; errorDetail?: { message?: string } };
        if (message.error || message.errorDetail) failure ??= message.errorDetail?.message ?? message.error;
        else if (message.status) onStatus?.(message.status);
      } catch {
        // A progress line we cannot read changes nothing: the pull's outcome is in the error lines.
      }
    };
    for await (const chunk of response) {
      pending += (chunk as Buffer).toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      lines.forEach(line);
    }
    line(pending);
    if (failure !== undefined) throw new DockerApiError(500, failure);
  }

  /** Creates a container; returns its id. */
  async createContainer(name: string, spec: ContainerSpec, signal: AbortSignal): Promise<string> {
    const created = (await this.json("POST", "/containers/create", { query: { name }, body: spec, signal })) as {
      Id: string;
    };
    return created.Id;
  }

  async startContainer(id: string, signal: AbortSignal): Promise<void> {
    await this.json("POST", `/containers/${encodeURIComponent(id)}/start`, { signal });
  }

  /** Resolves with the exit code once the container has stopped (at once if it already has). */
  async waitContainer(id: string, signal: AbortSignal): Promise<number> {
    const answer = (await this.json("POST", `/containers/${encodeURIComponent(id)}/wait`, {
      query: { condition: "not-running" },
      signal,
    })) as { StatusCode?: number; Error?: { Message?: string } | null };
    if (answer.Error?.Message)
      throw new DockerApiError(500, `waiting for the container failed: ${answer.Error.Message}`);
    return answer.StatusCode ?? -1;
  }

  /** Everything the container wrote so far, demultiplexed, keeping at most `maxBytes` of each stream. */
  async containerLogs(id: string, maxBytes: number, signal: AbortSignal): Promise<ContainerLogs> {
    const response = await this.open("GET", `/containers/${encodeURIComponent(id)}/logs`, {
      query: { stdout: "1", stderr: "1", follow: "0" },
      signal,
    });
    const stdout = new CappedOutput(maxBytes);
    const stderr = new CappedOutput(maxBytes);
    const demuxer = new StreamDemuxer((stream, payload) => (stream === 2 ? stderr : stdout).push(payload));
    for await (const chunk of response) demuxer.push(chunk as Buffer);
    demuxer.end();
    return { stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated || stderr.truncated };
  }

  async inspectContainer(id: string, signal: AbortSignal): Promise<ContainerState> {
    const info = (await this.json("GET", `/containers/${encodeURIComponent(id)}/json`, { signal })) as {
      State?: ContainerState;
    };
    return info.State ?? {};
  }

  /** Kills a running container; one that is gone or already stopped is not an error. */
  async killContainer(id: string, signal: AbortSignal): Promise<void> {
    await this.ignoring([404, 409], () =>
      this.json("POST", `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: "SIGKILL" }, signal }),
    );
  }

  /** Removes a container (and its anonymous volumes), running or not; one already gone is not an error. */
  async removeContainer(id: string, signal: AbortSignal): Promise<void> {
    await this.ignoring([404], () =>
      this.json("DELETE", `/containers/${encodeURIComponent(id)}`, { query: { force: "true", v: "true" }, signal }),
    );
  }

  private async ignoring(statuses: number[], call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      if (!(error instanceof DockerApiError && statuses.includes(error.status))) throw error;
    }
  }

  /** A call whose (small) answer is JSON or empty; a non-2xx status throws DockerApiError with the engine's message. */
  private async json(method: string, path: string, options: CallOptions): Promise<unknown> {
    const response = await this.open(method, path, options);
    const text = await readText(
      response,
      MAX_JSON_BYTES,
      () =>
        new DockerApiError(response.statusCode ?? 0, `${method} ${path}: answer larger than ${MAX_JSON_BYTES} bytes`),
    );
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new DockerApiError(response.statusCode ?? 0, `${method} ${path}: the engine's answer is not JSON`);
    }
  }

  /** Sends a request; resolves with the response once its status is 2xx (or 304), else throws. */
  private open(method: string, path: string, options: CallOptions): Promise<IncomingMessage> {
    const query = options.query ? `?${new URLSearchParams(options.query).toString()}` : "";
    const fullPath = `${path === "/version" ? "" : (this.prefix ?? "")}${path}${query}`;
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { host: "docker", accept: "application/json" };
    if (body) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(body.length);
    }
    return new Promise((resolve, reject) => {
      const onResponse = (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        if ((status >= 200 && status < 300) || status === 304) {
          resolve(response);
          return;
        }
        errorOf(response, method, path).then(reject, reject);
      };
      const common = { method, headers, signal: options.signal, agent: false as const };
      const request = this.baseUrl
        ? (this.baseUrl.protocol === "https:" ? https : http).request(
            new URL(fullPath, this.baseUrl),
            common,
            onResponse,
          )
        : http.request({ ...common, socketPath: this.socketPath, path: fullPath }, onResponse);
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (error.name === "AbortError") reject(error);
        else
          reject(
            new DockerApiError(0, `Docker engine not reachable at ${this.location}: ${error.message}`, error.code),
          );
      });
      request.end(body);
    });
  }
}

/** The engine's error message (`{"message": ...}`) of a failed call. */
async function errorOf(response: IncomingMessage, method: string, path: string): Promise<DockerApiError> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  response.destroy();
  const text = Buffer.concat(chunks).toString("utf8").trim();
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // Plain text errors (some proxies) are kept as they are.
  }
  const status = response.statusCode ?? 0;
  return new DockerApiError(status, message || `${method} ${path} answered HTTP ${status}`);
}

/**
 * `fromImage` and `tag` for a pull. Without a tag the engine would pull every tag of the
 * repository, so an untagged reference gets `latest`, as `docker pull` does.
 */
export function pullQuery(image: string): Record<string, string> {
  if (image.includes("@")) return { fromImage: image };
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { fromImage: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { fromImage: image, tag: "latest" };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Splits Docker's multiplexed stream (containers without a TTY) into its frames. Frames
 * may be cut anywhere by the transport, headers included, so bytes are held until whole.
 */
export class StreamDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  /** `stream` is 0 (stdin), 1 (stdout) or 2 (stderr). */
  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= FRAME_HEADER_BYTES) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < FRAME_HEADER_BYTES + size) break;
      this.onFrame(this.pending[0]!, this.pending.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + size));
      this.pending = this.pending.subarray(FRAME_HEADER_BYTES + size);
    }
  }

  /** A stream that ends inside a frame was cut short: what arrived of that frame is still passed on. */
  end(): void {
    if (this.pending.length > FRAME_HEADER_BYTES) {
      this.onFrame(this.pending[0]!, this.pending.subarray(FRAME_HEADER_BYTES));
    }
    this.pending = Buffer.alloc(0);
  }
}
