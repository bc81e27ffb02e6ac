/**
 * How dependency results reach an executor (contract, "Results flow to dependents"):
 * an object result is shallow-merged, any other result is placed under the
 * dependency's id, and the task's own inputs win over both. Failed optional
 * dependencies contribute nothing.
 */
import type { DependencyResult } from "./ports.js";
import type { JsonObject } from "./types.js";

export function mergeDependencyResults(inputs: JsonObject, dependencies: readonly DependencyResult[]): JsonObject {
  const merged: JsonObject = {};
  for (const dep of dependencies) {
    if (dep.status !== "completed" || dep.result === null || dep.result === undefined) continue;
    if (typeof dep.result === "object" && !Array.isArray(dep.result)) {
      Object.assign(merged, dep.result);
    } else {
      merged[dep.id] = dep.result;
    }
  }
  return Object.assign(merged, inputs);
}
