import { describe, expect, it } from "vitest";
import { ErrorCode, MAX_PROBLEMS_IN_MESSAGE, validationError } from "../../src/core/errors.js";

describe("validationError", () => {
  const problems = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      path: `tasks[${i}].executor`,
      code: ErrorCode.EXECUTOR_NOT_FOUND,
      message: "unknown",
    }));

  it("spells out every problem of a short list", () => {
    const error = validationError(problems(2), "task tree");
    expect(error.code).toBe(ErrorCode.VALIDATION_ERROR);
    expect(error.message).toBe(
      "The task tree has 2 problems; nothing was written:\n  - tasks[0].executor: unknown\n  - tasks[1].executor: unknown",
    );
  });

  it("names the first problems of a long list and keeps them all in its details", () => {
    const error = validationError(problems(10_000), "task tree");
    const lines = error.message.split("\n");
    expect(lines[0]).toBe("The task tree has 10000 problems; nothing was written:");
    expect(lines).toHaveLength(1 + MAX_PROBLEMS_IN_MESSAGE + 1);
    expect(lines.at(-1)).toBe(
      `  ... and ${10_000 - MAX_PROBLEMS_IN_MESSAGE} more (every problem is listed in the error's problems)`,
    );
    expect(error.problems).toHaveLength(10_000);
  });
});
