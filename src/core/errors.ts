/**
 * One error type for everything apflow reports to its users. The `code` is stable
 * and machine-readable (GraphQL puts it in `extensions.code`, the CLI maps it to an
 * exit code); the message says what is wrong and how to fix it.
 */
export const ErrorCode = {
  VALIDATION_ERROR: "VALIDATION_ERROR",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  INVALID_TRANSITION: "INVALID_TRANSITION",
  DEPENDENCY_CYCLE: "DEPENDENCY_CYCLE",
  UNKNOWN_REFERENCE: "UNKNOWN_REFERENCE",
  REFERENCE_OUTSIDE_TREE: "REFERENCE_OUTSIDE_TREE",
  DUPLICATE_NAME: "DUPLICATE_NAME",
  DUPLICATE_ID: "DUPLICATE_ID",
  MULTIPLE_ROOTS: "MULTIPLE_ROOTS",
  NO_ROOT: "NO_ROOT",
  INVALID_PARENT: "INVALID_PARENT",
  EXECUTOR_NOT_FOUND: "EXECUTOR_NOT_FOUND",
  EXECUTOR_FORBIDDEN: "EXECUTOR_FORBIDDEN",
  EXECUTOR_FAILED: "EXECUTOR_FAILED",
  DEPENDENCY_FAILED: "DEPENDENCY_FAILED",
  TIMEOUT: "TIMEOUT",
  CANCELLED: "CANCELLED",
  LEASE_LOST: "LEASE_LOST",
  DATA_DIR_LOCKED: "DATA_DIR_LOCKED",
  CONFIG_ERROR: "CONFIG_ERROR",
  STORAGE_ERROR: "STORAGE_ERROR",
  CLOSED: "CLOSED",
  SUBSCRIBER_TOO_SLOW: "SUBSCRIBER_TOO_SLOW",
  /** A request without the bearer token the server requires, or a webhook with a bad signature. */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  RATE_LIMITED: "RATE_LIMITED",
  /** The API the CLI was pointed at cannot be reached. */
  UNAVAILABLE: "UNAVAILABLE",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One problem found while validating input; a validation error carries all of them. */
export interface Problem {
  /** Where the problem is, e.g. `tasks[3].dependencies[0].id`. */
  path: string;
  code: ErrorCode;
  message: string;
}

export class ApflowError extends Error {
  override readonly name = "ApflowError";
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** The problems of a validation error (empty for other errors). */
  get problems(): Problem[] {
    const problems = this.details?.problems;
    return Array.isArray(problems) ? (problems as Problem[]) : [];
  }
}

/** How many problems a validation error's message spells out. */
export const MAX_PROBLEMS_IN_MESSAGE = 20;

/** Builds the single error that lists every problem of a request. */
export function validationError(
  problems: Problem[],
  what = "request",
  consequence = "nothing was written",
): ApflowError {
  // The message names the first problems only: a 10,000-task file with the same
  // mistake everywhere should not print 10,000 lines. Every problem stays in
  // `details.problems` (GraphQL: `extensions.problems`).
  const shown = problems.slice(0, MAX_PROBLEMS_IN_MESSAGE).map((p) => `  - ${p.path}: ${p.message}`);
  const hidden = problems.length - shown.length;
  if (hidden > 0) shown.push(`  ... and ${hidden} more (every problem is listed in the error's problems)`);
  const lines = shown.join("\n");
  return new ApflowError(
    ErrorCode.VALIDATION_ERROR,
    `The ${what} has ${problems.length} problem${problems.length === 1 ? "" : "s"}; ${consequence}:\n${lines}`,
    { problems },
  );
}

export function isApflowError(error: unknown, code?: ErrorCode): error is ApflowError {
  return error instanceof ApflowError && (code === undefined || error.code === code);
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error);
}
