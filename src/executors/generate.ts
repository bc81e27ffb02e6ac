/**
 * `generate_executor`: turns a requirement in plain language into an apflow task array
 * with an LLM. The prompt lists the node's executors with their input schemas; the
 * answer is checked the way a create request would be (tree rules via planTree, each
 * task's inputs against its executor's schema), and every problem found goes back to
 * the model for another try, so what comes out can be created as it is.
 */
import { randomUUID } from "node:crypto";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { normalizeTaskSpecs } from "../core/apflow-format.js";
import { ApflowError, ErrorCode, isApflowError, type Problem } from "../core/errors.js";
import { defineExecutor, type Executor, type JsonSchema } from "../core/executor.js";
import type { ExecutorInfo } from "../core/executor-registry.js";
import type { TreePlan } from "../core/ports.js";
import { type ExecutorAvailability, planTree } from "../core/tree-plan.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { withDeadline } from "./deadline.js";
import { InputReader, isJsonObject, MAX_TIMER_MS } from "./inputs.js";
import {
  connectionProperties,
  type LlmConnection,
  type LlmOptions,
  readConnection,
  readSampling,
  requireModel,
  samplingProperties,
} from "./llm-settings.js";
import { type ChatMessage, parseJsonReply } from "./openai-client.js";

export interface GenerateExecutorOptions extends LlmOptions {
  /** The node's executors (the registry's `list()`): offered to the model and used to check its answer. */
  executors: () => ExecutorInfo[];
}

export interface GenerateResult extends JsonObject {
  /** A flat task array in the create format (id, name, executor, inputs, parentId, dependencies, priority). */
  tasks: JsonObject[];
  /** How many answers it took (1 when the first was valid). */
  attempts: number;
}

const ID = "generate_executor";
const DEFAULT_MAX_ATTEMPTS = 3;
const MAX_ATTEMPTS = 10;
const DEFAULT_TIMEOUT_MS = 600_000;

const inputSchema = {
  type: "object",
  properties: {
    requirement: {
      type: "string",
      minLength: 1,
      description: "What the task tree should do, in plain language.",
    },
    executors: {
      type: "array",
      items: { type: "string" },
      minItems: 1,
      description: "Only offer these executor ids to the model; by default every available executor.",
    },
    maxAttempts: {
      type: "integer",
      minimum: 1,
      maximum: MAX_ATTEMPTS,
      default: DEFAULT_MAX_ATTEMPTS,
      description: "Answers to ask for: after an invalid one, the model is asked again with the list of problems.",
    },
    ...connectionProperties,
    ...samplingProperties,
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_TIMEOUT_MS,
      description: "Limit for the whole generation, every attempt included; then the task fails with TIMEOUT.",
    },
  },
  required: ["requirement"],
  additionalProperties: false,
};

interface GenerateInputs {
  requirement: string;
  offered: ExecutorInfo[];
  availability: (id: string) => ExecutorAvailability;
  maxAttempts: number;
  connection: LlmConnection;
  model: string;
  temperature: number | undefined;
  maxTokens: number | undefined;
  timeoutMs: number;
}

/** Builds `generate_executor`; `options.executors` lists the node's executors, the rest are its LLM settings. */
export function createGenerateExecutor(options: GenerateExecutorOptions): Executor {
  const validators = new InputValidators();
  return defineExecutor({
    id: ID,
    description:
      "Generates an apflow task tree from a requirement in plain language with an LLM, offering it this node's " +
      "executors and their input schemas. The answer is validated like a create request (tree rules and each " +
      "task's inputs against its executor's schema); problems are sent back to the model for another try, up " +
      "to maxAttempts. Returns { tasks, attempts }; fails with VALIDATION_ERROR if no answer was valid.",
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw, options);
      const messages: ChatMessage[] = [
        { role: "system", content: systemPrompt(input.offered) },
        { role: "user", content: `Requirement:\n${input.requirement}` },
      ];
      ctx.logger.info("generating a task tree", { executors: input.offered.length, maxAttempts: input.maxAttempts });
      return withDeadline(
        ctx.signal,
        input.timeoutMs,
        () => `${ID}: no valid task tree within ${input.timeoutMs} ms`,
        async (signal) => {
          let problems: Problem[] = [];
          let candidate: JsonValue = null;
          for (let attempt = 1; attempt <= input.maxAttempts; attempt++) {
            const completion = await input.connection.client.chat(
              {
                model: input.model,
                messages,
                temperature: input.temperature,
                maxTokens: input.maxTokens,
                stream: false,
              },
              { signal, logger: ctx.logger },
            );
            ({ tasks: candidate, problems } = check(completion.content, input, validators));
            if (problems.length === 0) return { tasks: candidate as JsonObject[], attempts: attempt };
            ctx.logger.info("generated tree is invalid", { attempt, problems: problems.length });
            ctx.reportProgress(
              attempt / input.maxAttempts,
              `attempt ${attempt}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`,
            );
            messages.push(
              { role: "assistant", content: completion.content },
              { role: "user", content: retryPrompt(problems) },
            );
          }
          throw new ApflowError(
            ErrorCode.VALIDATION_ERROR,
            `${ID}: the generated task tree still has ${problems.length} problem${problems.length === 1 ? "" : "s"} ` +
              `after ${input.maxAttempts} attempt${input.maxAttempts === 1 ? "" : "s"}:\n${problemLines(problems)}`,
            { problems, attempts: input.maxAttempts, tasks: candidate },
          );
        },
      );
    },
  });
}

function systemPrompt(executors: ExecutorInfo[]): string {
  const catalogue = executors
    .map((e) => `### ${e.id}\n${e.description}\nInput schema: ${JSON.stringify(e.inputSchema)}`)
    .join("\n\n");
  return [
    "You design task trees for apflow, a task-orchestration engine. Answer with JSON only: an array of task " +
      "objects, with no text before or after it.",
    "",
    "Each task object has:",
    '- "id": a short unique string; parentId and dependencies refer to tasks by it',
    '- "name": a unique, descriptive name (1 to 255 characters)',
    '- "executor": the id of one of the executors listed below',
    '- "inputs": an object that matches that executor\'s input schema exactly (every required property, no others)',
    '- "parentId": the id of the parent task; exactly one task, the root, has "parentId": null',
    '- "dependencies": [{ "id": "<task id>", "required": true }] for tasks that must finish first; a dependency\'s ' +
      "result is merged into this task's inputs. Dependencies must not form a cycle.",
    '- "priority": an integer, 0 = most urgent (default 2)',
    "",
    "Parent and child only organise the tree; execution order comes from dependencies alone. A root that " +
      "combines its children's results lists them as dependencies (aggregate_results_executor does that).",
    "Use only these executors:",
    "",
    catalogue,
  ].join("\n");
}

function retryPrompt(problems: Problem[]): string {
  return (
    `That task array has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problemLines(problems)}\n\n` +
    "Fix every problem and answer with the complete corrected JSON array only."
  );
}

function problemLines(problems: Problem[]): string {
  return problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n");
}

/** Parses and validates one answer; the task array (null if none was found) and every problem. */
function check(content: string, input: GenerateInputs, validators: InputValidators) {
  let parsed: JsonValue;
  try {
    parsed = parseJsonReply(content);
  } catch (error) {
    const problem = {
      path: "answer",
      code: ErrorCode.VALIDATION_ERROR,
      message: `is not JSON (${(error as Error).message})`,
    };
    return { tasks: null, problems: [problem] };
  }
  if (isJsonObject(parsed) && Array.isArray(parsed.tasks)) parsed = parsed.tasks;
  if (!Array.isArray(parsed)) {
    const problem = { path: "answer", code: ErrorCode.VALIDATION_ERROR, message: "must be a JSON array of tasks" };
    return { tasks: null, problems: [problem] };
  }
  const tasks = normalizeTaskSpecs(parsed) as JsonValue[];
  const problems: Problem[] = [];
  let plan: TreePlan | undefined;
  try {
    plan = planTree(tasks, {
      executorAvailability: input.availability,
      generateId: randomUUID,
      existingIds: new Map(),
    });
  } catch (error) {
    if (!isApflowError(error, ErrorCode.VALIDATION_ERROR)) throw error;
    problems.push(...error.problems);
  }
  tasks.forEach((task, i) => {
    if (!isJsonObject(task) || typeof task.executor !== "string") return;
    const info = input.offered.find((e) => e.id === task.executor);
    if (!info) return; // an unknown or unavailable executor is planTree's problem
    const inputs = task.inputs ?? {};
    if (!isJsonObject(inputs)) return; // planTree reported it
    const hasDependencies = Array.isArray(task.dependencies) && task.dependencies.length > 0;
    problems.push(...validators.check(info, inputs, `tasks[${i}].inputs`, hasDependencies));
  });
  return { tasks: plan && problems.length === 0 ? creatable(plan) : (tasks as JsonObject[]), problems };
}

/**
 * The validated tree in the create format, in the model's order, with fresh UUIDs: the
 * model's own ids ("fetch", "t1") would collide with the tasks of an earlier generation.
 */
function creatable(plan: TreePlan): JsonObject[] {
  const ids = new Map(plan.tasks.map((t) => [t.id, randomUUID()]));
  return [...plan.tasks]
    .sort((a, b) => a.position - b.position)
    .map((t) => ({
      id: ids.get(t.id)!,
      name: t.name,
      executor: t.executor,
      inputs: t.inputs,
      parentId: t.parentId === null ? null : ids.get(t.parentId)!,
      dependencies: t.dependencies.map((d) => ({ id: ids.get(d.id)!, required: d.required })),
      priority: t.priority,
    }));
}

/** Compiled input schemas, one per executor, checked with every error listed. */
class InputValidators {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly compiled = new WeakMap<JsonSchema, ValidateFunction | null>();

  /**
   * Problems of `inputs` against the executor's schema. With dependencies, a missing
   * top-level property is not a problem: dependency results are merged into the inputs
   * at run time and may supply it.
   */
  check(info: ExecutorInfo, inputs: JsonObject, at: string, hasDependencies: boolean): Problem[] {
    const validate = this.validator(info.inputSchema);
    if (!validate || validate(inputs)) return [];
    return (validate.errors ?? [])
      .filter((e) => !(hasDependencies && e.keyword === "required" && e.instancePath === ""))
      .filter((e) => !(hasDependencies && e.keyword === "oneOf" && e.instancePath === ""))
      .map((e) => problemOf(e, at, info.id));
  }

  private validator(schema: JsonSchema): ValidateFunction | null {
    let validate = this.compiled.get(schema);
    if (validate === undefined) {
      try {
        validate = this.ajv.compile(schema);
      } catch {
        validate = null; // an executor with a broken schema is not checked rather than blocking every answer
      }
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}

function problemOf(error: ErrorObject, at: string, executor: string): Problem {
  const path = `${at}${pointerToPath(error.instancePath)}`;
  const code = ErrorCode.VALIDATION_ERROR;
  if (error.keyword === "required") {
    return { path: `${path}.${error.params.missingProperty}`, code, message: "is required" };
  }
  if (error.keyword === "additionalProperties") {
    return {
      path: `${path}.${error.params.additionalProperty}`,
      code,
      message: `is not an input of ${executor} at this level`,
    };
  }
  if (error.keyword === "enum") {
    const allowed = (error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ");
    return { path, code, message: `must be one of ${allowed}` };
  }
  return { path, code, message: error.message ?? "is invalid" };
}

/** `/headers/0/name` -> `.headers[0].name` */
function pointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join("");
}

function readInputs(raw: JsonObject, options: GenerateExecutorOptions): GenerateInputs {
  const reader = new InputReader(ID, raw);
  const requirement = reader.string("requirement", { required: true, nonEmpty: true }) ?? "";
  const connection = readConnection(reader, options, ID);
  const model = requireModel(reader, connection);
  const { temperature, maxTokens } = readSampling(reader);
  const maxAttempts = reader.integer("maxAttempts", 1, MAX_ATTEMPTS) ?? DEFAULT_MAX_ATTEMPTS;
  const timeoutMs = reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS;
  const wanted = reader.stringArray("executors");

  const all = options.executors();
  const usable = all.filter((e) => e.available && e.id !== ID);
  if (wanted) {
    const unknown = wanted.filter((id) => !usable.some((e) => e.id === id));
    if (unknown.length > 0) {
      reader.problem("executors", `not available on this node: ${unknown.join(", ")}`);
    }
  }
  const offered = wanted ? usable.filter((e) => wanted.includes(e.id)) : usable;
  if (offered.length === 0 && !wanted) reader.problem("executors", "this node has no executors to offer");
  reader.finish();
  const availability = (id: string): ExecutorAvailability => {
    if (offered.some((e) => e.id === id)) return "available";
    // generate_executor itself, a blocked one, or one left out by `executors`: known, but not to be used.
    return all.some((e) => e.id === id) ? "forbidden" : "unknown";
  };
  return { requirement, offered, availability, maxAttempts, connection, model, temperature, maxTokens, timeoutMs };
}
