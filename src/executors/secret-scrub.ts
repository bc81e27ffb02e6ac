/**
 * Secrets a task hands to an executor (an API token, an SMTP password) must not leave in
 * the error it fails with, even when a peer's message or a response body quotes them.
 * apflow_api_executor and send_email_executor both rewrite their errors this way.
 */
import { ApflowError } from "../core/errors.js";
import { REDACTED } from "../core/redact.js";

/** The error with every secret replaced in its message and details; other errors unchanged. */
export function scrubbedError(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof ApflowError) || secrets.length === 0) return error;
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join(REDACTED), text);
  const details = error.details
    ? (JSON.parse(scrub(JSON.stringify(error.details))) as Record<string, unknown>)
    : undefined;
  return new ApflowError(error.code, scrub(error.message), details);
}
