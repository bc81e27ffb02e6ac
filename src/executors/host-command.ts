/**
 * What command_executor and mcp_executor (stdio) share when they start a host
 * process: the environment a child inherits, the working-directory check, and the
 * allow-list resolution of the executable.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { hostEnvironment } from "../config/index.js";
import { ApflowError, ErrorCode } from "../core/errors.js";

/** Only these reach a child process from the node's environment: never the node's secrets. */
const INHERITED_ENV = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"];
const FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The base environment of a child process (the task's own `env` goes on top). */
export function childEnv(): Record<string, string> {
  const env = hostEnvironment(INHERITED_ENV);
  env.PATH ??= FALLBACK_PATH;
  return env;
}

export async function checkDirectory(executorId: string, cwd: string): Promise<void> {
  const info = await stat(cwd).catch(() => null);
  if (!info?.isDirectory()) {
    throw new ApflowError(
      ErrorCode.VALIDATION_ERROR,
      `Invalid inputs for ${executorId}: cwd ${cwd} is not a directory`,
      {
        problems: [{ path: "inputs.cwd", code: ErrorCode.VALIDATION_ERROR, message: "is not an existing directory" }],
      },
    );
  }
}

/**
 * The absolute path to run under an allow-list. A bare name is resolved here against
 * the node's own PATH, so a task cannot slip in its own executable through `env.PATH`
 * or `cwd`.
 */
export async function allowedExecutable(executorId: string, command: string, allowed: string[]): Promise<string> {
  if (!allowed.includes(command))
    throw notAllowed(executorId, `command "${command}" is not allowed on this node`, allowed);
  if (command.includes("/")) {
    if (path.isAbsolute(command)) return command;
    throw notAllowed(executorId, `command "${command}" must be a bare name or an absolute path`, allowed);
  }
  for (const dir of childEnv().PATH!.split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  throw new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `${executorId}: command "${command}" was not found on this node's PATH`,
  );
}

export function notAllowed(executorId: string, message: string, allowed: string[]): ApflowError {
  return new ApflowError(
    ErrorCode.EXECUTOR_FORBIDDEN,
    `${executorId}: ${message} (allowed on this node: ${allowed.join(", ") || "none"})`,
  );
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
