/**
 * The executors every apflow node has. The two that reach outside the node (commands,
 * private URLs) are configured here from the node's settings, so one place decides.
 */
import type { Executor } from "../core/executor.js";
import { aggregateResultsExecutor } from "./aggregate-results.js";
import { createCommandExecutor } from "./command.js";
import { createRestExecutor } from "./rest.js";
import { systemInfoExecutor } from "./system-info.js";

export interface BuiltinExecutorOptions {
  /** Let `command_executor` run commands (APFLOW_STDIO_ALLOW_COMMAND=1). @defaultValue false */
  allowCommand?: boolean;
  /** Let `rest_executor` reach private, loopback and link-local addresses (APFLOW_REST_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** When set, the only executables `command_executor` may run (bare names or absolute paths). */
  allowedCommands?: string[];
}

/** aggregate_results_executor, system_info_executor, command_executor and rest_executor. */
export function builtinExecutors(options: BuiltinExecutorOptions = {}): Executor[] {
  return [
    aggregateResultsExecutor,
    systemInfoExecutor,
    createCommandExecutor({ allowCommand: options.allowCommand, allowedCommands: options.allowedCommands }),
    createRestExecutor({ allowPrivateUrls: options.allowPrivateUrls }),
  ];
}
