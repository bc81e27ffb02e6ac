/**
 * `docker_executor`: runs one container to completion, as a task, through the Docker
 * Engine API (see docker-api.ts): pull if needed, create, start, wait, collect the logs,
 * remove. A container is a cheaper isolation boundary than `command_executor` gives, but
 * the engine runs as root: a task choosing host bind mounts could read or replace any file
 * (or take over the engine through its socket), so host paths are refused unless this
 * node allows them, and sensitive ones need an allow-list entry inside them.
 */
import { randomBytes } from "node:crypto";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { ApflowError, ErrorCode, errorMessage } from "../core/errors.js";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import { REDACTED } from "../core/redact.js";
import type { JsonObject } from "../core/types.js";
import { runDeadline } from "./deadline.js";
import { type ContainerSpec, DockerApi, DockerApiError } from "./docker-api.js";
import { InputReader, MAX_TIMER_MS } from "./inputs.js";
import { DEFAULT_MAX_OUTPUT_BYTES, maxOutputBytesSchema, tail } from "./output-cap.js";

export interface DockerExecutorOptions {
  /** The engine's unix socket (APFLOW_DOCKER_HOST set to a path). @defaultValue "/var/run/docker.sock" */
  socketPath?: string;
  /** A tcp://, http:// or https:// engine URL instead of the socket (APFLOW_DOCKER_HOST set to a URL). */
  host?: string;
  /** Let tasks bind-mount any host path, sensitive ones included (APFLOW_DOCKER_ALLOW_HOST_MOUNTS=1). @defaultValue false */
  allowHostMounts?: boolean;
  /**
   * Absolute host directories tasks may bind-mount, with everything below them
   * (APFLOW_DOCKER_ALLOWED_MOUNT_PATHS, comma-separated). A sensitive path (/etc, /home, ...)
   * is allowed only through an entry at or inside it; a parent of one never is.
   */
  allowedMountPaths?: string[];
  /** HostConfig.NetworkMode of every container, e.g. "none" to cut them off. @defaultValue the engine's (bridge) */
  networkMode?: string;
}

export interface DockerResult extends JsonObject {
  exitCode: number;
  stdout: string;
  stderr: string;
  containerId: string;
  durationMs: number;
  /** True when stdout or stderr went over maxOutputBytes and was cut. */
  truncated: boolean;
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** A host path (as opposed to a named volume). */
  hostPath: boolean;
}

interface DockerInputs {
  image: string;
  cmd: string[] | undefined;
  entrypoint: string[] | undefined;
  env: Record<string, string>;
  mounts: Mount[];
  workingDir: string | undefined;
  user: string | undefined;
  cpus: number | undefined;
  memoryBytes: number | undefined;
  pull: Pull;
  autoRemove: boolean;
  timeoutMs: number | undefined;
  allowNonZeroExit: boolean;
  maxOutputBytes: number;
}

const ID = "docker_executor";
const PULL = ["missing", "always", "never"] as const;
type Pull = (typeof PULL)[number];
/** Docker refuses memory limits below 6 MiB. */
const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
const MAX_CPUS = 1024;
/** Time allowed for killing and removing a container after a cancel, timeout or failure. */
const CLEANUP_MS = 15_000;
/**
 * Host paths that give a container the host: itself or anything inside needs an allow-list
 * entry at or below it, and a path containing one (/, /var, /run) needs allowHostMounts.
 */
const SENSITIVE_PATHS = [
  "/etc",
  "/proc",
  "/sys",
  "/dev",
  "/boot",
  "/root",
  "/home",
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/var/lib/docker",
];
/** A Docker named volume, as opposed to a host path. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const TIMED_OUT = Symbol("docker_executor timeout");

const stringOrArray = (description: string) => ({
  oneOf: [
    { type: "string", minLength: 1 },
    { type: "array", items: { type: "string" } },
  ],
  description,
});

const inputSchema = {
  type: "object",
  properties: {
    image: {
      type: "string",
      minLength: 1,
      description: "Image reference, e.g. alpine:3.20 or ghcr.io/org/app@sha256:...",
    },
    command: stringOrArray(
      "Replaces the image's CMD: an executable (not split on spaces; arguments go in args) or a whole argv array.",
    ),
    args: {
      type: "array",
      items: { type: "string" },
      description: "Arguments after command; without command they replace the image's CMD (passed to its entrypoint).",
    },
    entrypoint: stringOrArray("Replaces the image's ENTRYPOINT."),
    env: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Environment variables of the container (added to the image's).",
    },
    volumes: {
      type: "array",
      description:
        "Mounts: `source:target[:ro|rw]` strings or { source, target, readOnly } objects. A source starting with / " +
        "is a host path (refused unless the node allows it); otherwise it names a Docker volume.",
      items: {
        oneOf: [
          { type: "string", minLength: 3 },
          {
            type: "object",
            properties: {
              source: { type: "string", minLength: 1, description: "Absolute host path or volume name." },
              target: { type: "string", minLength: 1, description: "Absolute path inside the container." },
              readOnly: { type: "boolean", default: false },
            },
            required: ["source", "target"],
            additionalProperties: false,
          },
        ],
      },
    },
    workingDir: { type: "string", description: "Absolute working directory inside the container." },
    user: { type: "string", description: "User (name or uid[:gid]) the command runs as." },
    cpus: {
      type: "number",
      exclusiveMinimum: 0,
      maximum: MAX_CPUS,
      description: "CPU limit in cores, e.g. 0.5 (HostConfig.NanoCpus).",
    },
    memoryBytes: {
      type: "integer",
      minimum: MIN_MEMORY_BYTES,
      description: "Memory limit in bytes (HostConfig.Memory); the container is killed when it goes over.",
    },
    pull: {
      type: "string",
      enum: [...PULL],
      default: "missing",
      description: "When to pull the image: only when it is not on the engine, always, or never.",
    },
    autoRemove: {
      type: "boolean",
      default: true,
      description:
        "Remove the container once its logs are read; false keeps it (its id is in the result). " +
        "A cancelled or timed-out container is always removed.",
    },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      description: "Kill and remove the container and fail with TIMEOUT after this many milliseconds (pull included).",
    },
    allowNonZeroExit: {
      type: "boolean",
      default: false,
      description: "Complete with the result whatever the exit code; by default a non-zero exit fails the task.",
    },
    maxOutputBytes: maxOutputBytesSchema,
  },
  required: ["image"],
  additionalProperties: false,
};

/** Builds `docker_executor`; host bind mounts are refused unless the options allow them. */
export function createDockerExecutor(options: DockerExecutorOptions = {}): Executor {
  const api = new DockerApi({ socketPath: options.socketPath, host: options.host });
  const allowed = (options.allowedMountPaths ?? []).map((entry) => {
    if (!path.posix.isAbsolute(entry)) {
      throw new ApflowError(ErrorCode.CONFIG_ERROR, `docker_executor: allowed mount path "${entry}" is not absolute`);
    }
    return path.posix.resolve(entry);
  });
  const policy: MountPolicy = {
    allowAll: options.allowHostMounts ?? false,
    allowed,
    // Symlinks can be resolved only when the engine shares this node's filesystem.
    resolveLinks: options.host === undefined,
  };
  return defineExecutor({
    id: ID,
    description:
      "Runs a container to completion through the Docker Engine API (pulling the image if missing) and returns " +
      "{ exitCode, stdout, stderr, containerId, durationMs, truncated }. A non-zero exit fails the task unless " +
      "allowNonZeroExit is set; cancelling or timing out kills and removes the container. Host bind mounts are " +
      "refused unless the node allows them (APFLOW_DOCKER_ALLOWED_MOUNT_PATHS, APFLOW_DOCKER_ALLOW_HOST_MOUNTS=1).",
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      await checkMounts(input.mounts, policy);
      ctx.signal.throwIfAborted();
      return runContainer(api, input, options.networkMode, ctx);
    },
  });
}

function readInputs(raw: JsonObject): DockerInputs {
  const reader = new InputReader(ID, raw);
  const argv = (key: string): string[] | undefined => {
    const value = reader.raw(key);
    if (value === undefined) return undefined;
    if (typeof value === "string" && value.length > 0) return [value];
    if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value as string[];
    reader.problem(key, "must be a non-empty string or an array of strings");
    return undefined;
  };
  const command = argv("command");
  const args = reader.stringArray("args");
  const env = reader.stringMap("env") ?? {};
  const badNames = Object.keys(env).filter((name) => name === "" || name.includes("="));
  if (badNames.length > 0) reader.problem("env", `variable names must be non-empty and without "="`);
  const workingDir = reader.string("workingDir", { nonEmpty: true });
  if (workingDir !== undefined && !workingDir.startsWith("/")) reader.problem("workingDir", "must be an absolute path");
  const input: DockerInputs = {
    image: reader.string("image", { required: true, nonEmpty: true }) ?? "",
    cmd: command || args ? [...(command ?? []), ...(args ?? [])] : undefined,
    entrypoint: argv("entrypoint"),
    env,
    mounts: readMounts(reader),
    workingDir,
    user: reader.string("user", { nonEmpty: true }),
    cpus: readCpus(reader),
    memoryBytes: reader.integer("memoryBytes", MIN_MEMORY_BYTES),
    pull: reader.oneOf("pull", PULL) ?? "missing",
    autoRemove: reader.boolean("autoRemove") ?? true,
    timeoutMs: reader.integer("timeoutMs", 1, MAX_TIMER_MS),
    allowNonZeroExit: reader.boolean("allowNonZeroExit") ?? false,
    maxOutputBytes: reader.integer("maxOutputBytes", 0) ?? DEFAULT_MAX_OUTPUT_BYTES,
  };
  reader.finish();
  return input;
}

function readCpus(reader: InputReader): number | undefined {
  const value = reader.raw("cpus");
  if (value === undefined) return undefined;
  if (typeof value === "number" && value > 0 && value <= MAX_CPUS) return value;
  reader.problem("cpus", `must be a number above 0 and at most ${MAX_CPUS}`);
  return undefined;
}

function readMounts(reader: InputReader): Mount[] {
  const value = reader.raw("volumes");
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    reader.problem("volumes", "must be an array");
    return [];
  }
  const mounts: Mount[] = [];
  value.forEach((item, index) => {
    const key = `volumes[${index}]`;
    let mount: Omit<Mount, "hostPath"> | undefined;
    if (typeof item === "string") {
      const [source, target, mode, ...rest] = item.split(":");
      if (!source || !target || rest.length > 0 || (mode !== undefined && mode !== "ro" && mode !== "rw")) {
        reader.problem(key, 'must be "source:target", "source:target:ro" or "source:target:rw"');
        return;
      }
      mount = { source, target, readOnly: mode === "ro" };
    } else if (item !== null && typeof item === "object" && !Array.isArray(item)) {
      const { source, target, readOnly } = item;
      if (typeof source !== "string" || typeof target !== "string" || source === "" || target === "") {
        reader.problem(key, "must have string source and target");
        return;
      }
      if (readOnly !== undefined && typeof readOnly !== "boolean")
        reader.problem(`${key}.readOnly`, "must be a boolean");
      if (source.includes(":") || target.includes(":")) {
        reader.problem(key, 'source and target must not contain ":"');
        return;
      }
      mount = { source, target, readOnly: readOnly === true };
    } else {
      reader.problem(key, "must be a string or an object");
      return;
    }
    if (!mount.target.startsWith("/")) {
      reader.problem(key, "target must be an absolute path inside the container");
      return;
    }
    const hostPath = mount.source.startsWith("/");
    if (!hostPath && !VOLUME_NAME.test(mount.source)) {
      reader.problem(key, "source must be an absolute host path or a volume name (host paths cannot be relative)");
      return;
    }
    mounts.push({ ...mount, source: hostPath ? path.posix.resolve(mount.source) : mount.source, hostPath });
  });
  return mounts;
}

interface MountPolicy {
  allowAll: boolean;
  allowed: string[];
  resolveLinks: boolean;
}

/** Whether `child` is `parent` or inside it. */
function within(child: string, parent: string): boolean {
  return parent === "/" || child === parent || child.startsWith(`${parent}/`);
}

/** Why a host path may not be mounted under this policy, or null when it may. */
function mountRefusal(hostPath: string, policy: MountPolicy): string | null {
  if (policy.allowAll) return null;
  const contained = SENSITIVE_PATHS.find((sensitive) => sensitive !== hostPath && within(sensitive, hostPath));
  if (contained) return `it contains ${contained}`;
  const entries = policy.allowed.filter((entry) => within(hostPath, entry));
  if (entries.length === 0) return "it is not under an allowed mount path";
  const area = SENSITIVE_PATHS.find((sensitive) => within(hostPath, sensitive));
  if (area && !entries.some((entry) => within(entry, area))) {
    return `it is inside the sensitive path ${area}, which needs an allowed mount path at or inside it`;
  }
  return null;
}

async function checkMounts(mounts: Mount[], policy: MountPolicy): Promise<void> {
  for (const mount of mounts.filter((m) => m.hostPath)) {
    const real = policy.resolveLinks ? await realpath(mount.source).catch(() => mount.source) : mount.source;
    for (const candidate of new Set([mount.source, real])) {
      const refusal = mountRefusal(candidate, policy);
      if (refusal === null) continue;
      const shown = candidate === mount.source ? mount.source : `${mount.source} (a link to ${candidate})`;
      throw new ApflowError(
        ErrorCode.EXECUTOR_FORBIDDEN,
        `docker_executor refused to mount host path ${shown}: ${refusal}. Allowed on this node: ` +
          `${policy.allowed.join(", ") || "none"} (APFLOW_DOCKER_ALLOWED_MOUNT_PATHS; ` +
          "APFLOW_DOCKER_ALLOW_HOST_MOUNTS=1 allows every path)",
        { source: mount.source, resolved: candidate, allowedMountPaths: policy.allowed },
      );
    }
  }
}

function containerSpec(input: DockerInputs, networkMode: string | undefined, ctx: ExecutorContext): ContainerSpec {
  return {
    Image: input.image,
    ...(input.cmd ? { Cmd: input.cmd } : {}),
    ...(input.entrypoint ? { Entrypoint: input.entrypoint } : {}),
    Env: Object.entries(input.env).map(([name, value]) => `${name}=${value}`),
    ...(input.workingDir ? { WorkingDir: input.workingDir } : {}),
    ...(input.user ? { User: input.user } : {}),
    // So an operator can tell which task a container belongs to (and clean up after a crash).
    Labels: { "apflow.task-id": ctx.task.id, "apflow.tree-id": ctx.task.treeId },
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    HostConfig: {
      ...(input.mounts.length > 0
        ? { Binds: input.mounts.map((m) => `${m.source}:${m.target}:${m.readOnly ? "ro" : "rw"}`) }
        : {}),
      ...(input.cpus !== undefined ? { NanoCpus: Math.round(input.cpus * 1e9) } : {}),
      ...(input.memoryBytes !== undefined ? { Memory: input.memoryBytes } : {}),
      ...(networkMode ? { NetworkMode: networkMode } : {}),
      // Removed by us after the logs are read: the engine's auto-remove could delete them first.
      AutoRemove: false,
    },
  };
}

/** A name of our own, so a container whose create call was interrupted can still be found and removed. */
function containerName(taskId: string): string {
  const safe = taskId.replace(/[^a-zA-Z0-9_.-]/g, "").slice(0, 40);
  return `apflow-${safe || "task"}-${randomBytes(4).toString("hex")}`;
}

async function runContainer(
  api: DockerApi,
  input: DockerInputs,
  networkMode: string | undefined,
  ctx: ExecutorContext,
): Promise<DockerResult> {
  const startedAt = performance.now();
  // A hung engine call (a stuck daemon) must not outlive a cancel or the timeout.
  const deadline = runDeadline(ctx.signal, input.timeoutMs, () => TIMED_OUT);
  const { signal, aborted } = deadline;
  const name = containerName(ctx.task.id);
  let createSent = false;
  let containerId: string | undefined;
  const scrub = (text: string) => scrubSecrets(text, input.env);

  const run = async (): Promise<DockerResult> => {
    await step("connect", scrub, () => api.negotiate(signal));
    if (input.pull === "always") await pull(api, input.image, signal, ctx, scrub);
    createSent = true;
    containerId = await create(api, name, input, containerSpec(input, networkMode, ctx), signal, ctx, scrub);
    ctx.logger.info("starting container", { image: input.image, containerId, engine: api.location });
    ctx.reportProgress(0.2, "container starting");
    const id = containerId;
    await step("start the container", scrub, () => api.startContainer(id, signal));
    const exitCode = await step("wait for the container", scrub, () => api.waitContainer(id, signal));
    ctx.reportProgress(0.9, `container exited with code ${exitCode}`);
    const logs = await step("read the logs", scrub, () => api.containerLogs(id, input.maxOutputBytes, signal));
    const result = { exitCode, ...logs, containerId: id, durationMs: Math.round(performance.now() - startedAt) };
    if (exitCode !== 0 && !input.allowNonZeroExit) {
      const state = await api.inspectContainer(id, signal).catch(() => undefined);
      throw exitError(result, input, state?.OOMKilled === true);
    }
    return result;
  };

  try {
    return await Promise.race([run(), aborted]);
  } catch (error) {
    if (!signal.aborted) throw error;
    if (signal.reason !== TIMED_OUT) throw signal.reason;
    throw new ApflowError(
      ErrorCode.TIMEOUT,
      `container of ${input.image} timed out after ${input.timeoutMs} ms and was removed`,
      { timeoutMs: input.timeoutMs, containerId: containerId ?? null },
    );
  } finally {
    deadline.dispose();
    const stopped = signal.aborted;
    // Without an id (create interrupted), only the name can find it; never after a failed create.
    const target = containerId ?? (stopped && createSent ? name : undefined);
    if (target !== undefined && (stopped || input.autoRemove)) await cleanUp(api, target, stopped, ctx);
  }
}

async function pull(
  api: DockerApi,
  image: string,
  signal: AbortSignal,
  ctx: ExecutorContext,
  scrub: (text: string) => string,
): Promise<void> {
  ctx.logger.info("pulling image", { image, engine: api.location });
  ctx.reportProgress(0.05, `pulling ${image}`);
  try {
    await api.pullImage(image, signal, (status) => ctx.logger.debug("pull", { image, status }));
  } catch (error) {
    if (!(error instanceof DockerApiError)) throw error;
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `could not pull image ${image}: ${scrub(error.message)}`,
      { image, status: error.status },
      { cause: error },
    );
  }
}

/** Creates the container, pulling the image first when the engine lacks it and pull allows. */
async function create(
  api: DockerApi,
  name: string,
  input: DockerInputs,
  spec: ContainerSpec,
  signal: AbortSignal,
  ctx: ExecutorContext,
  scrub: (text: string) => string,
): Promise<string> {
  try {
    return await api.createContainer(name, spec, signal);
  } catch (error) {
    if (!(error instanceof DockerApiError && error.status === 404))
      throw engineError("create the container", scrub, error);
    if (input.pull !== "missing") {
      throw new ApflowError(
        ErrorCode.EXECUTOR_FAILED,
        `image ${input.image} is not on the Docker engine and pull is "${input.pull}"`,
        { image: input.image, pull: input.pull },
      );
    }
  }
  await pull(api, input.image, signal, ctx, scrub);
  return step("create the container", scrub, () => api.createContainer(name, spec, signal));
}

/** Runs one engine call, turning its failure into an ApflowError that says which step failed. */
async function step<T>(what: string, scrub: (text: string) => string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw engineError(what, scrub, error);
  }
}

function engineError(what: string, scrub: (text: string) => string, error: unknown): unknown {
  if (!(error instanceof DockerApiError)) return error;
  const message = scrub(error.message);
  if (error.status === 0) {
    const hint = error.code ? " (is the engine running, and is APFLOW_DOCKER_HOST right?)" : "";
    return new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `${message}${hint}`,
      { code: error.code ?? null },
      { cause: error },
    );
  }
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `Docker could not ${what} (HTTP ${error.status}): ${message}`,
    { status: error.status },
    { cause: error },
  );
}

async function cleanUp(api: DockerApi, id: string, kill: boolean, ctx: ExecutorContext): Promise<void> {
  const signal = AbortSignal.timeout(CLEANUP_MS);
  try {
    if (kill) await api.killContainer(id, signal);
    await api.removeContainer(id, signal);
    ctx.logger.debug("container removed", { containerId: id });
  } catch (error) {
    ctx.logger.warn("could not remove container", { containerId: id, error: errorMessage(error) });
  }
}

/** Docker may quote the container's configuration in errors: environment values never leave this executor. */
function scrubSecrets(text: string, env: Record<string, string>): string {
  let out = text;
  for (const value of Object.values(env)) if (value.length >= 4) out = out.split(value).join(REDACTED);
  return out;
}

function exitError(result: DockerResult, input: DockerInputs, oomKilled: boolean): ApflowError {
  const last = tail(result.stderr.trim(), 500);
  const why = oomKilled ? ` (killed for going over its memory limit of ${input.memoryBytes ?? "?"} bytes)` : "";
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `container of ${input.image} exited with code ${result.exitCode}${why}${last ? `: ${last}` : ""}`,
    {
      exitCode: result.exitCode,
      containerId: result.containerId,
      oomKilled,
      durationMs: result.durationMs,
      truncated: result.truncated,
      stderrTail: tail(result.stderr, 4000),
      stdoutTail: tail(result.stdout, 1000),
    },
  );
}
