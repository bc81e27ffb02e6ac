/**
 * The CLI's exit codes, documented in `apflow help` and the README, and the one
 * place that maps an error to its code, so scripts can tell "the tree failed" from
 * "the command was wrong" from "the server is down".
 */
import { ErrorCode, isApflowError } from "../core/errors.js";

export const ExitCode = {
  OK: 0,
  /** run/watch: a task of the tree failed or was cancelled; elsewhere an unexpected error. */
  FAILED: 1,
  /** Bad arguments or flags, an invalid task file, an invalid configuration. */
  USAGE: 2,
  NOT_FOUND: 3,
  /** The API cannot be reached (or refused the token), or the storage is locked or unreachable. */
  UNAVAILABLE: 4,
  /** The operation conflicts with the task's state (e.g. deleting a task that ran). */
  CONFLICT: 5,
  /** Stopped with Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One line per code, for `apflow help` (the README has the same table). */
export const EXIT_CODE_HELP: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.OK, "success"],
  [ExitCode.FAILED, "run/watch: a task of the tree failed or was cancelled; otherwise an unexpected error"],
  [ExitCode.USAGE, "usage or validation error: bad command or flag, invalid task file, invalid configuration"],
  [ExitCode.NOT_FOUND, "not found (task, file)"],
  [ExitCode.UNAVAILABLE, "cannot reach the API (or it refused the token), or the storage is locked or unreachable"],
  [ExitCode.CONFLICT, "conflict with the task's state (e.g. deleting a task that already ran)"],
  [ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"],
];

const BY_ERROR_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  [ErrorCode.VALIDATION_ERROR]: ExitCode.USAGE,
  [ErrorCode.CONFIG_ERROR]: ExitCode.USAGE,
  [ErrorCode.DEPENDENCY_CYCLE]: ExitCode.USAGE,
  [ErrorCode.UNKNOWN_REFERENCE]: ExitCode.USAGE,
  [ErrorCode.REFERENCE_OUTSIDE_TREE]: ExitCode.USAGE,
  [ErrorCode.DUPLICATE_NAME]: ExitCode.USAGE,
  [ErrorCode.DUPLICATE_ID]: ExitCode.USAGE,
  [ErrorCode.MULTIPLE_ROOTS]: ExitCode.USAGE,
  [ErrorCode.NO_ROOT]: ExitCode.USAGE,
  [ErrorCode.INVALID_PARENT]: ExitCode.USAGE,
  [ErrorCode.EXECUTOR_NOT_FOUND]: ExitCode.USAGE,
  [ErrorCode.EXECUTOR_FORBIDDEN]: ExitCode.USAGE,
  [ErrorCode.NOT_FOUND]: ExitCode.NOT_FOUND,
  [ErrorCode.UNAVAILABLE]: ExitCode.UNAVAILABLE,
  [ErrorCode.UNAUTHENTICATED]: ExitCode.UNAVAILABLE,
  [ErrorCode.DATA_DIR_LOCKED]: ExitCode.UNAVAILABLE,
  [ErrorCode.STORAGE_ERROR]: ExitCode.UNAVAILABLE,
  [ErrorCode.CONFLICT]: ExitCode.CONFLICT,
  [ErrorCode.INVALID_TRANSITION]: ExitCode.CONFLICT,
};

export function exitCodeOf(error: unknown): ExitCode {
  return isApflowError(error) ? (BY_ERROR_CODE[error.code] ?? ExitCode.FAILED) : ExitCode.FAILED;
}
