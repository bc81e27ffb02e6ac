import { describe, expect, it } from "vitest";
import type { DependencyResult } from "../../src/core/ports.js";
import { aggregateResultsExecutor } from "../../src/executors/aggregate-results.js";
import { fakeContext } from "./context.js";

const dependency = (
  id: string,
  status: DependencyResult["status"],
  result: DependencyResult["result"],
  required = true,
) => ({
  id,
  name: `task ${id}`,
  required,
  status,
  result,
});

describe("aggregate_results_executor", () => {
  it("returns each dependency's result keyed by id, in declaration order", async () => {
    const ctx = fakeContext({
      dependencies: [
        dependency("cpu-info", "completed", { cores: 8 }),
        dependency("count", "completed", 42),
        dependency("nothing", "completed", null),
      ],
    });
    const result = await aggregateResultsExecutor.execute({ merged: "ignored" }, ctx);
    expect(result).toEqual({ "cpu-info": { cores: 8 }, count: 42, nothing: null });
    expect(Object.keys(result as object)).toEqual(["cpu-info", "count", "nothing"]);
  });

  it("gives failed or cancelled optional dependencies a null result", async () => {
    const ctx = fakeContext({
      dependencies: [
        dependency("ok", "completed", "done"),
        dependency("broken", "failed", { partial: true }, false),
        dependency("stopped", "cancelled", null, false),
      ],
    });
    expect(await aggregateResultsExecutor.execute({}, ctx)).toEqual({ ok: "done", broken: null, stopped: null });
  });

  it("returns an empty object without dependencies", async () => {
    expect(await aggregateResultsExecutor.execute({}, fakeContext())).toEqual({});
  });
});
