/**
 * Custom executors from APFLOW_EXECUTOR_DIRS: every .js/.mjs (and .ts when running
 * under tsx) module in those directories default-exports an executor or an array of
 * them (made with `defineExecutor`). A module that fails to load or exports
 * something else stops start-up, naming the file: a half-loaded set of executors
 * would make trees fail later and less clearly.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ApflowError, ErrorCode, errorMessage } from "../core/errors.js";
import type { Executor } from "../core/executor.js";

const MODULE = /\.(m?js|ts)$/;

export async function loadExecutorDirs(dirs: readonly string[]): Promise<Executor[]> {
  const executors: Executor[] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => MODULE.test(f) && !f.endsWith(".d.ts")).sort();
    } catch (error) {
      throw new ApflowError(
        ErrorCode.CONFIG_ERROR,
        `APFLOW_EXECUTOR_DIRS: cannot read "${dir}": ${errorMessage(error)}`,
      );
    }
    for (const file of files) {
      const where = path.resolve(dir, file);
      let loaded: { default?: unknown };
      try {
        loaded = (await import(pathToFileURL(where).href)) as { default?: unknown };
      } catch (error) {
        throw new ApflowError(
          ErrorCode.CONFIG_ERROR,
          `executor module ${where} failed to load: ${errorMessage(error)}`,
        );
      }
      const exported = Array.isArray(loaded.default) ? loaded.default : [loaded.default];
      for (const candidate of exported) {
        if (!isExecutor(candidate)) {
          throw new ApflowError(
            ErrorCode.CONFIG_ERROR,
            `executor module ${where} must default-export defineExecutor({ id, description, inputSchema, execute }) or an array of them`,
          );
        }
        executors.push(candidate);
      }
    }
  }
  return executors;
}

function isExecutor(value: unknown): value is Executor {
  const e = value as Partial<Executor> | null;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof e.id === "string" &&
    typeof e.description === "string" &&
    typeof e.inputSchema === "object" &&
    typeof e.execute === "function"
  );
}
