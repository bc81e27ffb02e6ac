/**
 * `command_executor`: runs a command as a real child process. Running commands from
 * task inputs is remote code execution by design, so it is off unless the node is
 * started with APFLOW_STDIO_ALLOW_COMMAND=1, and can be narrowed to an allow-list.
 *
 * The child gets its own process group so that stopping it (cancellation, timeout)
 * also stops whatever it started: SIGTERM to the group, SIGKILL after a grace period.
 */
import { spawn } from "node:child_process";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { defineExecutor, type Executor, type ExecutorContext } from "../core/executor.js";
import type { JsonObject } from "../core/types.js";
import { allowNonZeroExitSchema, outputDetails } from "./command-outcome.js";
import { allowedExecutable, checkDirectory, childEnv, notAllowed } from "./host-command.js";
import { InputReader, MAX_TIMER_MS } from "./inputs.js";
import { CappedOutput, DEFAULT_MAX_OUTPUT_BYTES, maxOutputBytesSchema, tail } from "./output-cap.js";
import { groupAlive, signalGroup } from "./process-group.js";

export interface CommandExecutorOptions {
  /** Lets tasks run commands at all (APFLOW_STDIO_ALLOW_COMMAND=1). @defaultValue false */
  allowCommand?: boolean;
  /**
   * When set, only these executables may run. Entries are bare names, looked up on this
   * node's PATH (not the task's), or absolute paths, matched exactly. `shell: true` is then
   * allowed only if the list holds `sh` or `/bin/sh`.
   */
  allowedCommands?: string[];
  /** Time between SIGTERM and SIGKILL when a command is stopped. @defaultValue 2000 */
  killGraceMs?: number;
}

export interface CommandResult extends JsonObject {
  /** Null when the process was ended by a signal. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  signal: string | null;
  /** True when stdout or stderr went over maxOutputBytes and was cut. */
  truncated: boolean;
  durationMs: number;
}

interface CommandInputs {
  command: string;
  args: string[];
  shell: boolean;
  cwd: string | undefined;
  env: Record<string, string>;
  stdin: string | undefined;
  timeoutMs: number | undefined;
  maxOutputBytes: number;
  allowNonZeroExit: boolean;
}

const ID = "command_executor";
const SHELL = "/bin/sh";
const DEFAULT_KILL_GRACE_MS = 2000;
/** After the process exits, how long to wait for descendants that still hold its stdout/stderr. */
const DRAIN_MS = 1000;

const inputSchema = {
  type: "object",
  properties: {
    command: {
      type: "string",
      minLength: 1,
      description:
        "The executable to run (a name looked up on PATH, or a path), run directly without a shell. " +
        "With shell: true, a command line run by /bin/sh -c instead.",
    },
    args: {
      type: "array",
      items: { type: "string" },
      description: "Arguments passed as-is (no shell quoting or expansion). With shell: true they become $1, $2, ...",
    },
    shell: {
      type: "boolean",
      default: false,
      description: "Run `command` as a /bin/sh command line (pipes, redirections, variables).",
    },
    cwd: { type: "string", description: "Working directory; defaults to the node's working directory." },
    env: {
      type: "object",
      additionalProperties: { type: "string" },
      description:
        "Environment variables, set over a minimal environment (PATH, HOME, USER, LOGNAME, LANG, LC_ALL, " +
        "LC_CTYPE, TZ, TMPDIR taken from the node); nothing else of the node's environment is passed.",
    },
    stdin: { type: "string", description: "Text written to the command's standard input, which is then closed." },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      description: "Stop the command (SIGTERM, then SIGKILL) and fail with TIMEOUT after this many milliseconds.",
    },
    maxOutputBytes: maxOutputBytesSchema,
    allowNonZeroExit: allowNonZeroExitSchema,
  },
  required: ["command"],
  additionalProperties: false,
};

/** Builds `command_executor`; it refuses to run anything unless `allowCommand` is true. */
export function createCommandExecutor(options: CommandExecutorOptions = {}): Executor {
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  return defineExecutor({
    id: ID,
    description:
      "Runs a command as a child process and returns { exitCode, stdout, stderr, signal, truncated, durationMs }. " +
      "A non-zero exit fails the task unless allowNonZeroExit is set. Disabled unless the node allows it " +
      "(APFLOW_STDIO_ALLOW_COMMAND=1); cancellation and timeouts stop the command's whole process group.",
    inputSchema,
    async execute(raw, ctx) {
      if (!options.allowCommand) {
        throw new ApflowError(
          ErrorCode.EXECUTOR_FORBIDDEN,
          "command_executor is disabled on this node: set APFLOW_STDIO_ALLOW_COMMAND=1 to let tasks run commands " +
            "(system_info_executor answers system queries without it)",
        );
      }
      const input = readInputs(raw);
      ctx.signal.throwIfAborted();
      if (input.cwd !== undefined) await checkDirectory(ID, input.cwd);
      const file = options.allowedCommands
        ? await allowedCommand(input, options.allowedCommands)
        : input.shell
          ? SHELL
          : input.command;
      const argv = input.shell ? ["-c", input.command, "sh", ...input.args] : input.args;
      ctx.logger.info("running command", { executable: file, argCount: input.args.length, shell: input.shell });
      const result = await runProcess(file, argv, input, ctx, graceMs);
      if ((result.exitCode !== 0 || result.signal !== null) && !input.allowNonZeroExit) throw exitError(result);
      return result;
    },
  });
}

function readInputs(raw: JsonObject): CommandInputs {
  const reader = new InputReader(ID, raw);
  const input: CommandInputs = {
    command: reader.string("command", { required: true, nonEmpty: true }) ?? "",
    args: reader.stringArray("args") ?? [],
    shell: reader.boolean("shell") ?? false,
    cwd: reader.string("cwd", { nonEmpty: true }),
    env: { ...childEnv(), ...reader.stringMap("env") },
    stdin: reader.string("stdin"),
    timeoutMs: reader.integer("timeoutMs", 1, MAX_TIMER_MS),
    maxOutputBytes: reader.integer("maxOutputBytes", 0) ?? DEFAULT_MAX_OUTPUT_BYTES,
    allowNonZeroExit: reader.boolean("allowNonZeroExit") ?? false,
  };
  reader.finish();
  return input;
}

/** A shell runs only when `sh` is allowed; anything else resolves through the allow-list. */
async function allowedCommand(input: CommandInputs, allowed: string[]): Promise<string> {
  if (!input.shell) return allowedExecutable(ID, input.command, allowed);
  if (allowed.includes(SHELL) || allowed.includes("sh")) return SHELL;
  throw notAllowed(ID, "shell: true is not allowed on this node because allowedCommands does not list sh", allowed);
}

type StopCause = { kind: "timeout" } | { kind: "abort"; reason: unknown };

function runProcess(
  file: string,
  argv: string[],
  input: CommandInputs,
  ctx: ExecutorContext,
  graceMs: number,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(file, argv, {
      cwd: input.cwd,
      env: input.env,
      stdio: [input.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // A new process group (setsid), so the whole tree it starts can be signalled at once.
      detached: true,
      windowsHide: true,
    });
    const stdout = new CappedOutput(input.maxOutputBytes);
    const stderr = new CappedOutput(input.maxOutputBytes);
    child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
    if (input.stdin !== undefined) {
      // A command that exits without reading its input would otherwise raise EPIPE here.
      child.stdin!.on("error", () => {});
      child.stdin!.end(input.stdin);
    }

    let settled = false;
    let stopCause: StopCause | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const stop = (cause: StopCause) => {
      if (stopCause) return;
      stopCause = cause;
      ctx.logger.info("stopping command", { reason: cause.kind, pid: child.pid });
      signalGroup(child, "SIGTERM");
      killTimer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
    };
    const onAbort = () => stop({ kind: "abort", reason: ctx.signal.reason });
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const timeoutTimer =
      input.timeoutMs === undefined ? undefined : setTimeout(() => stop({ kind: "timeout" }), input.timeoutMs);

    const cleanUp = () => {
      ctx.signal.removeEventListener("abort", onAbort);
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      // Keep the SIGKILL pending while anything of the group is left (a child ignoring SIGTERM).
      if (killTimer && !groupAlive(child)) clearTimeout(killTimer);
    };

    child.on("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      cleanUp();
      reject(spawnError(error, input));
    });
    child.on("exit", () => {
      // Background descendants may keep the pipes open long after the command itself ended.
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, DRAIN_MS);
    });
    child.on("close", (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      cleanUp();
      const result: CommandResult = {
        exitCode,
        stdout: stdout.text(),
        stderr: stderr.text(),
        signal,
        truncated: stdout.truncated || stderr.truncated,
        durationMs: Math.round(performance.now() - startedAt),
      };
      if (stopCause?.kind === "abort") reject(stopCause.reason);
      else if (stopCause?.kind === "timeout") reject(timeoutError(result, input.timeoutMs!));
      else resolve(result);
    });
  });
}

function spawnError(error: NodeJS.ErrnoException, input: CommandInputs): ApflowError {
  const shown = input.shell ? SHELL : input.command;
  const hint =
    !input.shell && /\s/.test(input.command)
      ? " (to run a command line, set shell: true or pass arguments in args)"
      : "";
  const message =
    error.code === "ENOENT"
      ? `command not found: "${shown}"${hint}`
      : error.code === "EACCES"
        ? `permission denied running "${shown}"`
        : `could not start "${shown}": ${error.message}`;
  return new ApflowError(ErrorCode.EXECUTOR_FAILED, message, { code: error.code ?? null }, { cause: error });
}

function exitError(result: CommandResult): ApflowError {
  const how = result.signal === null ? `exited with code ${result.exitCode}` : `was killed by ${result.signal}`;
  const last = tail(result.stderr.trim(), 500);
  return new ApflowError(ErrorCode.EXECUTOR_FAILED, `command ${how}${last ? `: ${last}` : ""}`, outputDetails(result));
}

function timeoutError(result: CommandResult, timeoutMs: number): ApflowError {
  return new ApflowError(ErrorCode.TIMEOUT, `command timed out after ${timeoutMs} ms and was stopped`, {
    timeoutMs,
    ...outputDetails(result),
  });
}
