/**
 * Typed reading of executor inputs. Inputs arrive as plain JSON (possibly merged with
 * dependency results), so each executor checks the fields it uses and reports every
 * problem at once as one VALIDATION_ERROR, in the same `Problem` shape the engine uses.
 *
 * Unknown keys are ignored on purpose: dependency results are shallow-merged into
 * `inputs` at run time, so extra keys are normal there. The strict `inputSchema`s
 * (additionalProperties: false) are meant for the user's own inputs at creation.
 */
import { ApflowError, ErrorCode, type Problem } from "../core/errors.js";
import type { JsonObject, JsonValue } from "../core/types.js";

export type Scalar = string | number | boolean;

/** The longest delay `setTimeout` honours (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

export class InputReader {
  private readonly problems: Problem[] = [];

  constructor(
    private readonly executorId: string,
    private readonly inputs: JsonObject,
  ) {}

  /** The raw value, or undefined when absent or null (null means "not given"). */
  raw(key: string): JsonValue | undefined {
    const value = this.inputs[key];
    return value === null ? undefined : value;
  }

  problem(key: string, message: string): void {
    this.problems.push({ path: `inputs.${key}`, code: ErrorCode.VALIDATION_ERROR, message });
  }

  string(key: string, options: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const value = this.raw(key);
    if (value === undefined) {
      if (options.required) this.problem(key, "is required");
      return undefined;
    }
    if (typeof value !== "string") return this.wrongType(key, "a string");
    if (options.nonEmpty && value.length === 0) {
      this.problem(key, "must not be empty");
      return undefined;
    }
    return value;
  }

  /** A required absolute http or https URL (apflow_api_executor's node, scrape_executor's page). */
  httpUrl(key: string): URL | undefined {
    const text = this.string(key, { required: true, nonEmpty: true });
    if (text === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.problem(key, "must be an absolute http or https URL");
      return undefined;
    }
    if (url.protocol === "http:" || url.protocol === "https:") return url;
    this.problem(key, "must be an http or https URL");
    return undefined;
  }

  boolean(key: string): boolean | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    return typeof value === "boolean" ? value : this.wrongType(key, "a boolean");
  }

  integer(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value)) return this.wrongType(key, "an integer");
    if (value < min || value > max) {
      this.problem(key, `must be between ${min} and ${max}`);
      return undefined;
    }
    return value;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
    this.problem(key, `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`);
    return undefined;
  }

  stringArray(key: string): string[] | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
      return this.wrongType(key, "an array of strings");
    }
    return value as string[];
  }

  object(key: string): JsonObject | undefined {
    const value = this.raw(key);
    if (value === undefined) return undefined;
    return isJsonObject(value) ? value : this.wrongType(key, "an object");
  }

  /** An object whose values are all strings (environment variables, headers). */
  stringMap(key: string): Record<string, string> | undefined {
    const value = this.object(key);
    if (value === undefined) return undefined;
    const bad = Object.keys(value).filter((name) => typeof value[name] !== "string");
    if (bad.length > 0) {
      this.problem(key, `values must be strings (not: ${bad.join(", ")})`);
      return undefined;
    }
    return value as Record<string, string>;
  }

  /** An object whose values are scalars or arrays of scalars (query strings, form bodies). */
  paramMap(key: string): Record<string, Scalar | Scalar[]> | undefined {
    const value = this.object(key);
    if (value === undefined) return undefined;
    const isScalar = (v: JsonValue): boolean =>
      typeof v === "string" || typeof v === "number" || typeof v === "boolean";
    const bad = Object.keys(value).filter((name) => {
      const v = value[name]!;
      return !(isScalar(v) || (Array.isArray(v) && v.every(isScalar)));
    });
    if (bad.length > 0) {
      this.problem(key, `values must be strings, numbers, booleans or arrays of them (not: ${bad.join(", ")})`);
      return undefined;
    }
    return value as Record<string, Scalar | Scalar[]>;
  }

  /** Throws one VALIDATION_ERROR listing every problem found so far. */
  finish(): void {
    if (this.problems.length === 0) return;
    const lines = this.problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n");
    throw new ApflowError(ErrorCode.VALIDATION_ERROR, `Invalid inputs for ${this.executorId}:\n${lines}`, {
      problems: this.problems,
    });
  }

  private wrongType(key: string, expected: string): undefined {
    this.problem(key, `must be ${expected}`);
    return undefined;
  }
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
