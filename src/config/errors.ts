import { ApflowError, ErrorCode } from "../core/errors.js";

/** A configuration problem (CONFIG_ERROR: the CLI exits with a usage error, the server does not start). */
export function configError(message: string, cause?: unknown, details?: Record<string, unknown>): ApflowError {
  return new ApflowError(ErrorCode.CONFIG_ERROR, message, details, cause === undefined ? undefined : { cause });
}
