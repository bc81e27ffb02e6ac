/**
 * Accepts the Python apflow's task format wherever a task array comes in:
 * snake_case fields and the executor named in `schemas.method`. Everything else
 * passes through unchanged for the planner to validate.
 */
import { isObject } from "./tree-plan.js";

const SNAKE_TO_CAMEL: Record<string, string> = {
  parent_id: "parentId",
  max_attempts: "maxAttempts",
  timeout_ms: "timeoutMs",
  idempotency_key: "idempotencyKey",
  user_id: "userId",
};

export function normalizeTaskSpecs(input: unknown): unknown {
  if (!Array.isArray(input)) return input;
  return input.map((raw) => {
    if (!isObject(raw)) return raw;
    const spec: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (key === "schemas") continue;
      spec[SNAKE_TO_CAMEL[key] ?? key] = value;
    }
    const method = isObject(raw.schemas) ? raw.schemas.method : undefined;
    if (spec.executor === undefined && typeof method === "string") spec.executor = method;
    return spec;
  });
}
