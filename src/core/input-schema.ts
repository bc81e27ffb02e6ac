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

/**
 * One Ajv for the process: its first use compiles the JSON Schema meta-schema
 * (tens of milliseconds), which a checker of its own would pay again for every
 * registry, and at the first task of a run rather than at start-up.
 */
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });

/** Why `schema` is not a valid JSON Schema, or null when it is. */
export function schemaProblem(schema: JsonSchema): string | null {
  return ajv.validateSchema(schema) ? null : ajv.errorsText(ajv.errors, { dataVar: "inputSchema" });
}

export class InputSchemaChecker {
  private readonly compiled = new Map<string, ValidateFunction>();

  check(executorId: string, schema: JsonSchema, inputs: unknown, when: InputCheck): InputProblem[] {
    const key = `${executorId}\u0000${when}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      const variantSchema = variant(schema, when);
      validate = ajv.compile(variantSchema);
      // The compiled function is all we keep: left in Ajv's cache, a schema with an
      // $id would clash with its other variants and with other registries' copies.
      ajv.removeSchema(variantSchema);
      this.compiled.set(key, validate);
    }
    if (validate(inputs)) return [];
    return (validate.errors ?? []).map(describe);
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
