/**
 * `ssh_executor`: runs one command on a remote host over SSH, as a task, and returns
 * what command_executor returns for a local one. Task inputs choose the host and carry
 * the credentials, so: the host passes the private-address guard of rest_executor (and
 * the connection goes to the checked address), the host key must match a pinned SHA256
 * fingerprint unless the node accepts unknown keys (fail closed: an unverified key lets a
 * man in the middle collect the password), and credentials never reach errors or logs.
 *
 * Stopping (cancellation, timeout) first asks the server to send SIGTERM to the remote
 * command, then SIGKILL, and closes the channel and connection after a grace period,
 * because closing alone leaves a command without a terminal running on many servers.
 */
import { createHash } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { isIP } from "node:net";
import ssh2, { type ClientChannel, type ConnectConfig } from "ssh2";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import type { JsonObject } from "../core/types.js";
import { checkedAddresses, guardOptions } from "./address-guard.js";
import { allowNonZeroExitSchema, outputDetails } from "./command-outcome.js";
import { bounded } from "./deadline.js";
import { InputReader, MAX_TIMER_MS } from "./inputs.js";
import { CappedOutput, DEFAULT_MAX_OUTPUT_BYTES, maxOutputBytesSchema, tail } from "./output-cap.js";
import type { ResolveHost } from "./url-guard.js";

const { Client, utils } = ssh2;

export interface SshExecutorOptions {
  /** Allow loopback, private and link-local hosts (APFLOW_SSH_ALLOW_PRIVATE_HOSTS=1). @defaultValue false */
  allowPrivateHosts?: boolean;
  /** Host names or IP literals exempt from the private-address guard, e.g. a known bastion. */
  allowedHosts?: string[];
  /**
   * Accept any host key when a task gives no hostKeyFingerprint (APFLOW_SSH_ALLOW_UNKNOWN_HOST_KEYS=1).
   * Without it such tasks fail closed. A given fingerprint is always enforced. @defaultValue false
   */
  allowUnknownHostKeys?: boolean;
  /** Time between SIGTERM and SIGKILL (then closing) when a command is stopped. @defaultValue 2000 */
  killGraceMs?: number;
  /** Replaces DNS resolution for the guard (custom resolvers, tests). @defaultValue dns.lookup */
  resolve?: ResolveHost;
}

export interface SshResult extends JsonObject {
  /** Null when the command was ended by a signal (or the server sent no exit status). */
  exitCode: number | null;
  /** The signal that ended the command, e.g. "SIGTERM", or null. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went over maxOutputBytes and was cut. */
  truncated: boolean;
  durationMs: number;
}

interface SshInputs {
  host: string;
  port: number;
  username: string;
  password: string | undefined;
  privateKey: string | undefined;
  passphrase: string | undefined;
  hostKeyFingerprint: string | undefined;
  command: string;
  env: Record<string, string> | undefined;
  stdin: string | undefined;
  connectTimeoutMs: number;
  timeoutMs: number | undefined;
  maxOutputBytes: number;
  allowNonZeroExit: boolean;
}

const ID = "ssh_executor";
const PRIVATE_SETTING = "APFLOW_SSH_ALLOW_PRIVATE_HOSTS";
const UNKNOWN_KEYS_SETTING = "APFLOW_SSH_ALLOW_UNKNOWN_HOST_KEYS";
const DEFAULT_PORT = 22;
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_KILL_GRACE_MS = 2000;
/** After the connection is ended, how long the server gets to close it before the socket is dropped. */
const CLOSE_GRACE_MS = 1000;
/** The SHA256 fingerprint as `ssh-keygen -l` prints it: base64 of 32 bytes, without padding. */
const FINGERPRINT = /^(?:SHA256:)?([A-Za-z0-9+/]{43})=?$/i;

const inputSchema = {
  type: "object",
  properties: {
    host: { type: "string", minLength: 1, description: "Host name or IP address of the SSH server." },
    port: { type: "integer", minimum: 1, maximum: 65535, default: DEFAULT_PORT, description: "SSH port." },
    username: { type: "string", minLength: 1, description: "User to log in as." },
    password: {
      type: "string",
      description: "Password (also answers keyboard-interactive prompts). Give password, privateKey or both.",
    },
    privateKey: {
      type: "string",
      minLength: 1,
      description: "Private key text (OpenSSH, PEM or PuTTY format), not a path.",
    },
    passphrase: { type: "string", description: "Passphrase of an encrypted privateKey." },
    hostKeyFingerprint: {
      type: "string",
      pattern: "^(SHA256:)?[A-Za-z0-9+/]{43}=?$",
      description:
        "SHA256 fingerprint of the server's host key, as `ssh-keygen -lf <host key>.pub` prints it " +
        "(SHA256:...). The connection is refused when the key differs. Required unless the node accepts " +
        `unknown host keys (${UNKNOWN_KEYS_SETTING}=1).`,
    },
    command: {
      type: "string",
      minLength: 1,
      description: "The command line, run by the remote user's login shell.",
    },
    env: {
      type: "object",
      additionalProperties: { type: "string" },
      description:
        "Environment variables, sent as SSH env requests. Servers apply only names they allow (OpenSSH: AcceptEnv, " +
        "often just LANG and LC_*) and silently drop the rest.",
    },
    stdin: { type: "string", description: "Text written to the command's standard input, which is then closed." },
    connectTimeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_CONNECT_TIMEOUT_MS,
      description: "Limit for connecting, the SSH handshake and logging in; then the task fails with TIMEOUT.",
    },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      description:
        "Limit for the whole task, connecting included; then the command is stopped and the task fails with TIMEOUT.",
    },
    maxOutputBytes: maxOutputBytesSchema,
    allowNonZeroExit: allowNonZeroExitSchema,
  },
  required: ["host", "username", "command"],
  additionalProperties: false,
};

/** Builds `ssh_executor`; private hosts and unpinned host keys are refused unless the options allow them. */
export function createSshExecutor(options: SshExecutorOptions = {}): Executor {
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return defineExecutor({
    id: ID,
    description:
      "Runs a command on a remote host over SSH (password or private key) and returns { exitCode, signal, " +
      "stdout, stderr, truncated, durationMs }. A non-zero exit fails the task unless allowNonZeroExit is set. " +
      "The host key must match hostKeyFingerprint unless the node accepts unknown host keys " +
      `(${UNKNOWN_KEYS_SETTING}=1); private, loopback and link-local hosts are refused unless the node allows ` +
      `them (${PRIVATE_SETTING}=1). Cancellation and timeouts signal the remote command, then disconnect.`,
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      ctx.signal.throwIfAborted();
      const startedAt = performance.now();
      // DNS lookups cannot be aborted: bound the guard by the connect timeout and the signal.
      const addresses = await bounded(guard(input, options), ctx.signal, input.connectTimeoutMs, () =>
        connectTimeout(input),
      );
      ctx.signal.throwIfAborted();
      const remaining = input.timeoutMs === undefined ? undefined : input.timeoutMs - (performance.now() - startedAt);
      if (remaining !== undefined && remaining <= 0) throw timeoutError(input, emptyResult(startedAt));
      ctx.logger.info("running remote command", {
        host: input.host,
        port: input.port,
        username: input.username,
        auth: input.privateKey ? "publickey" : "password",
      });
      const result = await runRemote(input, addresses?.[0]?.address ?? input.host, remaining, startedAt, {
        ctx,
        graceMs,
        allowUnknownHostKeys: options.allowUnknownHostKeys ?? false,
      });
      if ((result.exitCode !== 0 || result.signal !== null) && !input.allowNonZeroExit) throw exitError(result);
      return result;
    },
  });
}

function readInputs(raw: JsonObject): SshInputs {
  const reader = new InputReader(ID, raw);
  const hostText = reader.string("host", { required: true, nonEmpty: true });
  const host = hostText?.startsWith("[") && hostText.endsWith("]") ? hostText.slice(1, -1) : hostText;
  if (host !== undefined && (/[\s/@?#]/.test(host) || (host.includes(":") && isIP(host) !== 6))) {
    reader.problem("host", "must be a host name or an IP address");
  }
  const password = reader.string("password");
  const privateKey = reader.string("privateKey", { nonEmpty: true });
  const passphrase = reader.string("passphrase");
  if (password === undefined && privateKey === undefined) reader.problem("password", "give password or privateKey");
  if (privateKey !== undefined) checkPrivateKey(reader, privateKey, passphrase);
  const fingerprint = reader.string("hostKeyFingerprint");
  const pinned = fingerprint === undefined ? undefined : FINGERPRINT.exec(fingerprint.trim())?.[1];
  if (fingerprint !== undefined && pinned === undefined) {
    reader.problem("hostKeyFingerprint", "must be a SHA256 fingerprint such as SHA256:<43 base64 characters>");
  }
  const input: SshInputs = {
    host: host ?? "",
    port: reader.integer("port", 1, 65535) ?? DEFAULT_PORT,
    username: reader.string("username", { required: true, nonEmpty: true }) ?? "",
    password,
    privateKey,
    passphrase,
    hostKeyFingerprint: pinned,
    command: reader.string("command", { required: true, nonEmpty: true }) ?? "",
    env: reader.stringMap("env"),
    stdin: reader.string("stdin"),
    connectTimeoutMs: reader.integer("connectTimeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    timeoutMs: reader.integer("timeoutMs", 1, MAX_TIMER_MS),
    maxOutputBytes: reader.integer("maxOutputBytes", 0) ?? DEFAULT_MAX_OUTPUT_BYTES,
    allowNonZeroExit: reader.boolean("allowNonZeroExit") ?? false,
  };
  reader.finish();
  return input;
}

/** Reads the key now, so a bad key or passphrase is an input problem; the parser's messages are not shown. */
function checkPrivateKey(reader: InputReader, privateKey: string, passphrase: string | undefined): void {
  const parsed = utils.parseKey(privateKey, passphrase);
  if (!(parsed instanceof Error)) return;
  if (/passphrase|decrypt|encrypted/i.test(parsed.message)) {
    reader.problem(
      "passphrase",
      passphrase === undefined ? "is required: privateKey is encrypted" : "does not decrypt privateKey",
    );
  } else {
    reader.problem("privateKey", "is not a supported private key (OpenSSH, PEM or PuTTY format)");
  }
}

/** The private-address guard of rest_executor, with this executor's message and setting. */
async function guard(input: SshInputs, options: SshExecutorOptions): Promise<LookupAddress[] | null> {
  const literal = isIP(input.host) === 6 ? `[${input.host}]` : input.host;
  return checkedAddresses(
    new URL(`http://${literal}`),
    guardOptions(options.allowPrivateHosts, options),
    (what) =>
      `${ID} refused ${input.host}: ${what}. Set ${PRIVATE_SETTING}=1 to allow private, loopback and link-local hosts`,
  );
}

/** The SHA256 fingerprint of a host key blob, without the padding, as OpenSSH prints it. */
function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

interface RunContext {
  ctx: ExecutorContext;
  graceMs: number;
  allowUnknownHostKeys: boolean;
}

type StopCause = { kind: "timeout" } | { kind: "abort"; reason: unknown };

function runRemote(
  input: SshInputs,
  connectTo: string,
  timeoutMs: number | undefined,
  startedAt: number,
  run: RunContext,
): Promise<SshResult> {
  const { ctx, graceMs } = run;
  return new Promise((resolve, reject) => {
    const client = new Client();
    const stdout = new CappedOutput(input.maxOutputBytes);
    const stderr = new CappedOutput(input.maxOutputBytes);
    let execRequested = false;
    let channel: ClientChannel | undefined;
    let exit: { code: number | null; signal: string | null } | undefined;
    let hostKeyError: ApflowError | undefined;
    let stopCause: StopCause | undefined;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;

    const result = (): SshResult => ({
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
      stdout: stdout.text(),
      stderr: stderr.text(),
      truncated: stdout.truncated || stderr.truncated,
      durationMs: Math.round(performance.now() - startedAt),
    });
    const stopError = (cause: StopCause) => (cause.kind === "abort" ? cause.reason : timeoutError(input, result()));
    const settle = (error: unknown, value?: SshResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(killTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      client.end();
      if (error === undefined) resolve(value!);
      else reject(error);
    };
    const stop = (cause: StopCause) => {
      if (stopCause || settled) return;
      stopCause = cause;
      if (!execRequested) {
        client.destroy(); // nothing runs remotely yet
        settle(stopError(cause));
        return;
      }
      ctx.logger.info("stopping remote command", { reason: cause.kind, host: input.host });
      // Before the server has confirmed the exec, the command may already run: it is signalled when the channel opens.
      if (channel) sendSignal(channel, "TERM");
      killTimer = setTimeout(() => {
        if (channel) {
          sendSignal(channel, "KILL");
          channel.close();
        }
        settle(stopError(cause));
        // end() lets the KILL and close go out first; a server that never lets go is dropped.
        setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
      }, graceMs);
    };
    const onAbort = () => stop({ kind: "abort", reason: ctx.signal.reason });
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const timeoutTimer = timeoutMs === undefined ? undefined : setTimeout(() => stop({ kind: "timeout" }), timeoutMs);

    const verifyHostKey = (key: Buffer): boolean => {
      const seen = hostKeyFingerprint(key);
      if (input.hostKeyFingerprint !== undefined) {
        if (seen.slice("SHA256:".length) === input.hostKeyFingerprint) return true;
        hostKeyError = new ApflowError(
          ErrorCode.EXECUTOR_FAILED,
          `${ID} refused ${input.host}:${input.port}: its host key ${seen} does not match hostKeyFingerprint ` +
            `SHA256:${input.hostKeyFingerprint}. The key changed or someone is intercepting the connection; ` +
            "update the fingerprint only after checking the new key with the server's administrator",
          { host: input.host, port: input.port, fingerprint: seen, expected: `SHA256:${input.hostKeyFingerprint}` },
        );
        return false;
      }
      if (run.allowUnknownHostKeys) {
        ctx.logger.warn("accepting an unpinned SSH host key", { host: input.host, fingerprint: seen });
        return true;
      }
      hostKeyError = new ApflowError(
        ErrorCode.EXECUTOR_FAILED,
        `${ID} refused ${input.host}:${input.port}: its host key ${seen} is not pinned. Check it on the server ` +
          "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub, or the key type it uses) and set " +
          `hostKeyFingerprint: "${seen}" in the task's inputs, or start the node with ${UNKNOWN_KEYS_SETTING}=1 ` +
          "to accept unknown host keys",
        { host: input.host, port: input.port, fingerprint: seen },
      );
      return false;
    };

    client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) =>
      finish(prompts.map(() => input.password ?? "")),
    );
    client.on("error", (error: Error & { level?: string; code?: string }) =>
      settle(hostKeyError ?? connectionError(error, input)),
    );
    client.on("close", () =>
      settle(
        stopCause
          ? stopError(stopCause)
          : new ApflowError(ErrorCode.EXECUTOR_FAILED, `the SSH connection to ${input.host} closed unexpectedly`, {
              host: input.host,
            }),
      ),
    );
    client.on("ready", () => {
      if (stopCause) return;
      execRequested = true;
      client.exec(input.command, input.env ? { env: input.env } : {}, (error, opened) => {
        if (error) {
          settle(new ApflowError(ErrorCode.EXECUTOR_FAILED, `could not start the remote command: ${error.message}`));
          return;
        }
        channel = opened;
        opened.on("data", (chunk: Buffer) => stdout.push(chunk));
        opened.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        opened.on("exit", (code: number | null, signal?: string) => {
          exit = { code: signal ? null : code, signal: signal ? `SIG${signal.replace(/^SIG/, "")}` : null };
        });
        opened.on("close", () => settle(stopCause ? stopError(stopCause) : undefined, result()));
        if (stopCause) sendSignal(opened, "TERM");
        // Without input the command still gets end-of-file, as a closed terminal would give it.
        opened.end(input.stdin);
      });
    });
    const config: ConnectConfig = {
      host: connectTo,
      port: input.port,
      username: input.username,
      password: input.password,
      privateKey: input.privateKey,
      passphrase: input.passphrase,
      tryKeyboard: input.password !== undefined,
      readyTimeout: input.connectTimeoutMs,
      hostVerifier: verifyHostKey,
    };
    client.connect(config);
  });
}

/** ssh2 internals used by `sendSignal` (ssh2 is pinned; the stopping tests fail if these change). */
interface ChannelInternals {
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal(channelId: number, signal: string): void } };
}

/**
 * Asks the server to signal the remote command; servers without signal support ignore it.
 * ssh2's `channel.signal()` sends nothing once our side has sent EOF, which happens at
 * once here (stdin is closed right after the command starts), although SSH allows channel
 * requests after EOF; so the request goes to ssh2's protocol object directly.
 */
function sendSignal(channel: ClientChannel, signal: string): void {
  const internals = channel as unknown as ChannelInternals;
  const state = internals.outgoing?.state;
  try {
    if ((state === "open" || state === "eof") && internals._client?._protocol) {
      internals._client._protocol.signal(internals.outgoing!.id, signal);
    } else {
      channel.signal(signal);
    }
  } catch {
    // The channel or connection is already closed.
  }
}

function connectionError(error: Error & { level?: string; code?: string }, input: SshInputs): ApflowError {
  const where = `${input.username}@${input.host}:${input.port}`;
  if (error.level === "client-authentication") {
    return new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `SSH authentication failed for ${where}: the server accepted none of the given credentials`,
      { host: input.host, port: input.port, username: input.username },
    );
  }
  if (error.level === "client-timeout") return connectTimeout(input);
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `SSH connection to ${where} failed: ${error.message}`,
    { host: input.host, port: input.port, code: error.code ?? null },
    { cause: error },
  );
}

function connectTimeout(input: SshInputs): ApflowError {
  return new ApflowError(
    ErrorCode.TIMEOUT,
    `no SSH session with ${input.host}:${input.port} within ${input.connectTimeoutMs} ms`,
    { host: input.host, port: input.port, connectTimeoutMs: input.connectTimeoutMs },
  );
}

function emptyResult(startedAt: number): SshResult {
  return {
    exitCode: null,
    signal: null,
    stdout: "",
    stderr: "",
    truncated: false,
    durationMs: Math.round(performance.now() - startedAt),
  };
}

function exitError(result: SshResult): ApflowError {
  const how =
    result.signal !== null
      ? `was killed by ${result.signal}`
      : result.exitCode === null
        ? "ended without an exit status"
        : `exited with code ${result.exitCode}`;
  const last = tail(result.stderr.trim(), 500);
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `remote command ${how}${last ? `: ${last}` : ""}`,
    outputDetails(result),
  );
}

function timeoutError(input: SshInputs, result: SshResult): ApflowError {
  return new ApflowError(
    ErrorCode.TIMEOUT,
    `remote command on ${input.host} timed out after ${input.timeoutMs} ms and was stopped`,
    { timeoutMs: input.timeoutMs, ...outputDetails(result) },
  );
}
