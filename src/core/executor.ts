import type { DependencyResult } from "./ports.js";
import type { JsonObject, JsonValue, Task } from "./types.js";

/** A JSON Schema document (draft 2020-12 subset) describing an executor's inputs. */
export type JsonSchema = { [key: string]: unknown };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface ExecutorContext {
  /** Aborted on cancellation, timeout, lease loss and shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  /** Report progress in 0..1 with an optional message; throttled and stored as events. */
  reportProgress(progress: number, message?: string): void;
  /** A read-only snapshot of the task being run. */
  task: Readonly<Task>;
  /** The task's `params` (executor construction options). */
  params: JsonObject;
  /** Every dependency with its status and result, in declaration order. */
  dependencies: readonly DependencyResult[];
  logger: Logger;
}

/**
 * What runs a task. `execute` resolves with the task's result or throws; it must
 * stop promptly when `ctx.signal` aborts.
 */
export interface Executor {
  /** apflow's id, e.g. `rest_executor`. */
  id: string;
  description: string;
  inputSchema: JsonSchema;
  execute(inputs: JsonObject, ctx: ExecutorContext): Promise<JsonValue | undefined>;
}

/** Identity helper that type-checks an executor definition. */
export function defineExecutor(executor: Executor): Executor {
  return executor;
}
