/**
 * `aggregate_results_executor`: collects the results of a task's dependencies into one
 * result. It is what a parent that "runs after its children" uses, since parent/child
 * does not order execution: the parent lists its children as dependencies.
 */
import { defineExecutor } from "../core/executor.js";
import type { JsonObject } from "../core/types.js";

export const aggregateResultsExecutor = defineExecutor({
  id: "aggregate_results_executor",
  description:
    "Aggregates the results of this task's dependencies into one object keyed by dependency id, " +
    "in declaration order, each holding that dependency's result. An optional dependency that " +
    "failed or was cancelled appears with null (its status is on the dependency task itself). " +
    "Takes no inputs of its own; any inputs given are ignored.",
  inputSchema: {
    type: "object",
    description:
      "No inputs are needed: results are read from the dependencies. Other keys are allowed " +
      "because dependency results are merged into inputs.",
    properties: {},
    additionalProperties: true,
  },
  async execute(_inputs, ctx) {
    // Read dependencies, not `inputs`: there object results are shallow-merged together
    // with user inputs, so which dependency produced which key is lost.
    const results: JsonObject = {};
    for (const dependency of ctx.dependencies) {
      results[dependency.id] = dependency.status === "completed" ? dependency.result : null;
    }
    ctx.logger.debug("aggregated dependency results", { count: ctx.dependencies.length });
    return results;
  },
});
