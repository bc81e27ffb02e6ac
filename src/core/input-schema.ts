/**
 * Checks task inputs against an executor's JSON Schema, reporting every bad field.
 *
 * Two moments, two strictnesses: at creation a task's dependencies have not run
 * yet, so fields their results may supply are not required then; at run time
 * dependency results are merged into the inputs, so keys the schema does not
 * know are allowed then.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { JsonSchema } from "./executor.js";

export interface InputProblem {
  /** JSON path inside the inputs, e.g. `.auth.token` (empty for the object itself). */
  path: string;
  message: string;
}

export type InputCheck = "creation" | "creation-with-dependencies" | "run";

export class InputSchemaChecker {
  private readonly ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  check(executorId: string, schema: JsonSchema, inputs: unknown, when: InputCheck): InputProblem[] {
    const key = `${executorId}\u0000${when}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(variant(schema, when));
      this.compiled.set(key, validate);
    }
    if (validate(inputs)) return [];
    return (validate.errors ?? []).map(describe);
  }

  /** Forgets compiled schemas of an executor (re-registered under the same id). */
  forget(executorId: string): void {
    for (const key of this.compiled.keys()) if (key.startsWith(`${executorId}\u0000`)) this.compiled.delete(key);
  }
}

function variant(schema: JsonSchema, when: InputCheck): JsonSchema {
  if (when === "creation") return schema;
  const { required: _required, ...rest } = schema;
  if (when === "creation-with-dependencies") return rest;
  return { ...schema, additionalProperties: true };
}

function describe(error: ErrorObject): InputProblem {
  const path = error.instancePath.replace(/\//g, ".");
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties":
      return { path: `${path}.${String(params.additionalProperty)}`, message: "is not an input of this executor" };
    case "required":
      return { path: `${path}.${String(params.missingProperty)}`, message: "is required" };
    case "enum":
      return { path, message: `must be one of ${JSON.stringify(params.allowedValues)}` };
    default:
      return { path, message: error.message ?? "is invalid" };
  }
}
