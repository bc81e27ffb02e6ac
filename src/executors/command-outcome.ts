/**
 * What command_executor and ssh_executor share about a finished command: whether a failed
 * exit fails the task (`allowNonZeroExit`), and the exit and output excerpts that the
 * failure or timeout error carries in its details.
 */
import type { CommandResult } from "./command.js";
import { tail } from "./output-cap.js";

/** The `allowNonZeroExit` input, as both executors' input schemas have it. */
export const allowNonZeroExitSchema = {
  type: "boolean",
  default: false,
  description:
    "Complete with the result even when the command exits non-zero or is killed by a signal; " +
    "by default that fails the task with EXECUTOR_FAILED.",
};

/** `result` is a CommandResult or an SshResult, which has the same fields. */
export function outputDetails(result: CommandResult): Record<string, unknown> {
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    durationMs: result.durationMs,
    truncated: result.truncated,
    stderrTail: tail(result.stderr, 4000),
    stdoutTail: tail(result.stdout, 1000),
  };
}
