/**
 * `crew_executor` and `batch_crew_executor`: apflow's CrewAI executors, done natively on
 * the OpenAI-compatible client instead of the Python CrewAI library. A crew is a few
 * role-playing agents and a list of tasks worked through in order (CrewAI's sequential
 * process): each task goes to its agent's model with the agent's persona as the system
 * message, and the previous task's output as context, so work builds step by step.
 * The batch runs many crews (or one crew over many items) with bounded concurrency.
 */
import { ApflowError, ErrorCode, errorMessage, isApflowError } from "../core/errors.js";
import { defineExecutor, type Executor, type Logger } from "../core/executor.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { withDeadline } from "./deadline.js";
import { InputReader, isJsonObject, MAX_TIMER_MS } from "./inputs.js";
import {
  connectionProperties,
  type LlmConnection,
  type LlmOptions,
  readConnection,
  readSampling,
  samplingProperties,
} from "./llm-settings.js";
import { addUsage, type ChatMessage, type ChatUsage } from "./openai-client.js";

export type CrewExecutorOptions = LlmOptions;

export interface CrewTaskOutput extends JsonObject {
  description: string;
  agent: string;
  output: string;
}

export interface CrewResult extends JsonObject {
  /** The last task's output. */
  result: string;
  tasks: CrewTaskOutput[];
  usage: ChatUsage | null;
}

export interface BatchEntry extends JsonObject {
  index: number;
  /** The crew's name (crews mode). */
  name: string | null;
  /** The item this run was for (items mode). */
  item: JsonValue;
  status: "completed" | "failed";
  result: string | null;
  tasks: CrewTaskOutput[];
  usage: ChatUsage | null;
  error: { code: string; message: string } | null;
}

export interface BatchResult extends JsonObject {
  results: BatchEntry[];
  completed: number;
  failed: number;
  usage: ChatUsage | null;
}

interface Agent {
  role: string;
  goal: string;
  backstory: string;
  model: string | undefined;
}

interface CrewTask {
  description: string;
  expectedOutput: string;
  agent: string;
}

interface Crew {
  name: string | null;
  item: JsonValue;
  agents: Map<string, Agent>;
  tasks: CrewTask[];
}

interface Settings {
  connection: LlmConnection;
  temperature: number | undefined;
  maxTokens: number | undefined;
}

const CREW_ID = "crew_executor";
const BATCH_ID = "batch_crew_executor";
const DEFAULT_TIMEOUT_MS = 900_000;
const DEFAULT_CONCURRENCY = 3;
const MAX_CONCURRENCY = 32;

const agentSchema = {
  type: "object",
  properties: {
    role: { type: "string", minLength: 1, description: "The agent's role, unique in its crew; tasks name it." },
    goal: { type: "string", minLength: 1, description: "What the agent is trying to achieve." },
    backstory: { type: "string", description: "The agent's background and expertise, to set its voice." },
    model: { type: "string", minLength: 1, description: "This agent's model, instead of the crew's." },
  },
  required: ["role", "goal", "backstory"],
  additionalProperties: false,
};

const taskSchema = {
  type: "object",
  properties: {
    description: { type: "string", minLength: 1, description: "What to do." },
    expectedOutput: { type: "string", minLength: 1, description: "What a good answer looks like (form, length)." },
    agent: { type: "string", minLength: 1, description: "The role of the agent that does this task." },
  },
  required: ["description", "expectedOutput", "agent"],
  additionalProperties: false,
};

const crewProperties = {
  agents: { type: "array", minItems: 1, items: agentSchema, description: "The crew's agents." },
  tasks: {
    type: "array",
    minItems: 1,
    items: taskSchema,
    description: "Tasks done in order; each gets the previous task's output as context.",
  },
  variables: {
    type: "object",
    additionalProperties: { type: ["string", "number", "boolean"] },
    description: "Values for {name} placeholders in the agents' and tasks' texts.",
  },
};

const commonProperties = {
  ...connectionProperties,
  ...samplingProperties,
  timeoutMs: {
    type: "integer",
    minimum: 1,
    maximum: MAX_TIMER_MS,
    default: DEFAULT_TIMEOUT_MS,
    description: "Limit for the whole run, every step included; then the task fails with TIMEOUT.",
  },
};

const crewInputSchema = {
  type: "object",
  properties: { ...crewProperties, ...commonProperties },
  required: ["agents", "tasks"],
  additionalProperties: false,
};

const batchInputSchema = {
  type: "object",
  properties: {
    crews: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        properties: { name: { type: "string", description: "Names the crew in results." }, ...crewProperties },
        required: ["agents", "tasks"],
        additionalProperties: false,
      },
      description: "Crews to run, each { name?, agents, tasks, variables? }. Give crews, or agents + tasks + items.",
    },
    ...crewProperties,
    items: {
      type: "array",
      minItems: 1,
      description: "Runs the one crew (agents, tasks) once per item, replacing {item} (objects as JSON).",
    },
    concurrency: {
      type: "integer",
      minimum: 1,
      maximum: MAX_CONCURRENCY,
      default: DEFAULT_CONCURRENCY,
      description: "How many crews run at the same time.",
    },
    continueOnError: {
      type: "boolean",
      default: false,
      description: "Keep going when a crew fails and report it in results; by default one failure fails the batch.",
    },
    ...commonProperties,
  },
  additionalProperties: false,
  oneOf: [{ required: ["crews"] }, { required: ["agents", "tasks", "items"] }],
};

/** Builds `crew_executor`; `options` are the node's LLM settings. */
export function createCrewExecutor(options: CrewExecutorOptions = {}): Executor {
  return defineExecutor({
    id: CREW_ID,
    description:
      "Runs a crew of role-playing LLM agents ({ role, goal, backstory, model? }) through a list of tasks " +
      "({ description, expectedOutput, agent }) in order, each task seeing the previous one's output. Returns " +
      "{ result (the last output), tasks: [{ description, agent, output }], usage }. Uses the node's " +
      "OpenAI-compatible endpoint unless baseUrl is given.",
    inputSchema: crewInputSchema,
    async execute(raw, ctx) {
      const reader = new InputReader(CREW_ID, raw);
      const settings = readSettings(reader, options, CREW_ID);
      const crew = readCrew(reader, raw, "", settings, undefined);
      const timeoutMs = reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS;
      reader.finish();
      ctx.logger.info("running crew", { agents: crew.agents.size, tasks: crew.tasks.length });
      return withDeadline(
        ctx.signal,
        timeoutMs,
        () => `${CREW_ID}: the crew did not finish within ${timeoutMs} ms`,
        (signal) =>
          runCrew(crew, settings, signal, ctx.logger, (done, task) =>
            ctx.reportProgress(done / crew.tasks.length, `task ${done}/${crew.tasks.length} done by ${task.agent}`),
          ),
      );
    },
  });
}

/** Builds `batch_crew_executor`; `options` are the node's LLM settings. */
export function createBatchCrewExecutor(options: CrewExecutorOptions = {}): Executor {
  return defineExecutor({
    id: BATCH_ID,
    description:
      "Runs several crews (crews: [{ name?, agents, tasks }]) or one crew over a list (agents, tasks, items: " +
      "each run replaces {item}), a few at a time. Returns { results: [{ index, name, item, status, result, " +
      "tasks, usage, error }], completed, failed, usage }. One failed crew fails the batch unless continueOnError.",
    inputSchema: batchInputSchema,
    async execute(raw, ctx) {
      const reader = new InputReader(BATCH_ID, raw);
      const settings = readSettings(reader, options, BATCH_ID);
      const crews = readBatch(reader, raw, settings);
      const concurrency = reader.integer("concurrency", 1, MAX_CONCURRENCY) ?? DEFAULT_CONCURRENCY;
      const continueOnError = reader.boolean("continueOnError") ?? false;
      const timeoutMs = reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS;
      reader.finish();
      const totalSteps = crews.reduce((n, crew) => n + crew.tasks.length, 0);
      let steps = 0;
      ctx.logger.info("running crew batch", { crews: crews.length, steps: totalSteps, concurrency });
      return withDeadline(
        ctx.signal,
        timeoutMs,
        () => `${BATCH_ID}: the batch did not finish within ${timeoutMs} ms`,
        (signal) =>
          runBatch(crews, settings, { concurrency, continueOnError }, signal, ctx.logger, (crew, done, task) => {
            steps++;
            const label = crew.name ?? `item ${crews.indexOf(crew) + 1}`;
            ctx.reportProgress(steps / totalSteps, `${label}: task ${done}/${crew.tasks.length} done by ${task.agent}`);
          }),
      );
    },
  });
}

async function runCrew(
  crew: Crew,
  settings: Settings,
  signal: AbortSignal,
  logger: Logger,
  onStep: (done: number, task: CrewTask) => void,
): Promise<CrewResult> {
  const outputs: CrewTaskOutput[] = [];
  let usage: ChatUsage | null = null;
  let previous: { agent: string; output: string } | undefined;
  for (const [i, task] of crew.tasks.entries()) {
    signal.throwIfAborted();
    const agent = crew.agents.get(task.agent)!;
    const completion = await settings.connection.client.chat(
      {
        model: agent.model!,
        messages: stepMessages(agent, task, previous),
        temperature: settings.temperature,
        maxTokens: settings.maxTokens,
        stream: false,
      },
      { signal, logger },
    );
    usage = addUsage(usage, completion.usage);
    const output = completion.content.trim();
    outputs.push({ description: task.description, agent: task.agent, output });
    previous = { agent: task.agent, output };
    onStep(i + 1, task);
  }
  return { result: previous?.output ?? "", tasks: outputs, usage };
}

/** The persona as the system message; the task, its expected output and the previous output as the user message. */
function stepMessages(agent: Agent, task: CrewTask, previous: { agent: string; output: string } | undefined) {
  const system = [`You are ${agent.role}.`, agent.backstory, `Your personal goal is: ${agent.goal}`]
    .filter((line) => line.trim() !== "")
    .join("\n");
  const parts = [
    `Current task: ${task.description}`,
    `This is the expected criteria for your final answer: ${task.expectedOutput}`,
    "Return the actual complete content as your final answer, not a summary of it.",
  ];
  if (previous) {
    parts.push(
      `This is the context you are working with, the output of the previous task (by ${previous.agent}):\n` +
        `${previous.output}`,
    );
  }
  parts.push("Begin! Give your best final answer.");
  const messages: ChatMessage[] = [
    { role: "system", content: system },
    { role: "user", content: parts.join("\n\n") },
  ];
  return messages;
}

async function runBatch(
  crews: Crew[],
  settings: Settings,
  policy: { concurrency: number; continueOnError: boolean },
  signal: AbortSignal,
  logger: Logger,
  onStep: (crew: Crew, done: number, task: CrewTask) => void,
): Promise<BatchResult> {
  // Aborted on the first failure (unless continueOnError), so the other crews stop too.
  const failFast = new AbortController();
  const batchSignal = AbortSignal.any([signal, failFast.signal]);
  const entries: BatchEntry[] = new Array(crews.length);
  let next = 0;
  let firstFailure: { index: number; error: unknown } | undefined;

  const worker = async () => {
    while (next < crews.length && !batchSignal.aborted) {
      const index = next++;
      const crew = crews[index]!;
      const entry: BatchEntry = {
        index,
        name: crew.name,
        item: crew.item,
        status: "completed",
        result: null,
        tasks: [],
        usage: null,
        error: null,
      };
      try {
        const result = await runCrew(crew, settings, batchSignal, logger, (done, task) => onStep(crew, done, task));
        Object.assign(entry, { result: result.result, tasks: result.tasks, usage: result.usage });
      } catch (error) {
        if (signal.aborted) throw signal.reason; // cancelled or timed out: the whole batch stops
        if (failFast.signal.aborted) return; // another crew's failure stopped this one
        entry.status = "failed";
        entry.error = {
          code: isApflowError(error) ? error.code : ErrorCode.EXECUTOR_FAILED,
          message: errorMessage(error),
        };
        logger.warn("crew failed", { index, name: crew.name, code: entry.error.code });
        if (!policy.continueOnError) {
          firstFailure = { index, error };
          failFast.abort(error);
        }
      }
      entries[index] = entry;
    }
  };
  await Promise.all(Array.from({ length: Math.min(policy.concurrency, crews.length) }, worker));

  if (firstFailure) {
    const { index, error } = firstFailure;
    const crew = crews[index]!;
    const which = crew.name !== null ? `crew "${crew.name}"` : `the crew for item ${index + 1}`;
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `${BATCH_ID}: ${which} failed, so the batch failed (set continueOnError to keep going): ${errorMessage(error)}`,
      {
        index,
        name: crew.name,
        cause: isApflowError(error) ? { code: error.code, ...error.details } : null,
        completed: entries.filter((e) => e?.status === "completed").length,
      },
    );
  }
  const results = entries;
  return {
    results,
    completed: results.filter((e) => e.status === "completed").length,
    failed: results.filter((e) => e.status === "failed").length,
    usage: results.reduce<ChatUsage | null>((total, e) => addUsage(total, e.usage), null),
  };
}

function readSettings(reader: InputReader, options: LlmOptions, who: string): Settings {
  const connection = readConnection(reader, options, who);
  const { temperature, maxTokens } = readSampling(reader);
  return { connection, temperature, maxTokens };
}

function readBatch(reader: InputReader, raw: JsonObject, settings: Settings): Crew[] {
  const crews = reader.raw("crews");
  const items = reader.raw("items");
  if (crews !== undefined) {
    for (const key of ["agents", "tasks", "items"]) {
      if (reader.raw(key) !== undefined) reader.problem(key, "cannot be combined with crews");
    }
    if (!Array.isArray(crews) || crews.length === 0) {
      reader.problem("crews", "must be a non-empty array of { name?, agents, tasks }");
      return [];
    }
    const shared = readVariables(reader, raw.variables, "variables");
    return crews.flatMap((spec, i) => {
      if (!isJsonObject(spec)) {
        reader.problem(`crews[${i}]`, "must be an object { name?, agents, tasks }");
        return [];
      }
      const name = spec.name === undefined ? `crew ${i + 1}` : spec.name;
      if (typeof name !== "string") reader.problem(`crews[${i}].name`, "must be a string");
      const crew = readCrew(reader, spec, `crews[${i}].`, settings, shared);
      return [{ ...crew, name: String(name) }];
    });
  }
  if (items === undefined) {
    reader.problem("crews", "is required (or give agents, tasks and items)");
    return [];
  }
  if (!Array.isArray(items) || items.length === 0) {
    reader.problem("items", "must be a non-empty array");
    return [];
  }
  // The template's own variables are filled already; each run fills {item}.
  const template = readCrew(reader, raw, "", settings, undefined);
  return items.map((item) => {
    const text = typeof item === "string" ? item : JSON.stringify(item);
    const fill = (s: string) => substitute(s, { item: text });
    return {
      name: null,
      item,
      agents: new Map(
        [...template.agents].map(([role, a]) => [
          role,
          { ...a, goal: fill(a.goal), backstory: fill(a.backstory) } satisfies Agent,
        ]),
      ),
      tasks: template.tasks.map((t) => ({
        ...t,
        description: fill(t.description),
        expectedOutput: fill(t.expectedOutput),
      })),
    };
  });
}

/**
 * Reads one crew from `spec` (problems are reported under `at`), with its {placeholders}
 * filled from its own variables over `shared`. Roles are kept as written (tasks name them),
 * so a role itself is not substituted.
 */
function readCrew(
  reader: InputReader,
  spec: JsonObject,
  at: string,
  settings: Settings,
  shared: Record<string, string> | undefined,
): Crew {
  const variables = { ...shared, ...readVariables(reader, spec.variables, `${at}variables`) };
  const fill = (s: string) => substitute(s, variables);
  const text = (value: JsonValue | undefined, path: string, required: boolean): string | undefined => {
    if (value === undefined || value === null) {
      if (required) reader.problem(path, "is required");
      return undefined;
    }
    if (typeof value !== "string" || (required && value.trim() === "")) {
      reader.problem(path, required ? "must be a non-empty string" : "must be a string");
      return undefined;
    }
    return value;
  };

  const agents = new Map<string, Agent>();
  list(reader, spec.agents, `${at}agents`, "{ role, goal, backstory, model? }").forEach((raw, i) => {
    const path = `${at}agents[${i}]`;
    const role = text(raw.role, `${path}.role`, true);
    const goal = text(raw.goal, `${path}.goal`, true);
    const backstory = text(raw.backstory, `${path}.backstory`, false) ?? "";
    const model = text(raw.model, `${path}.model`, false) ?? settings.connection.model;
    if (model === undefined) {
      reader.problem(`${path}.model`, "is required: no model is given for the crew or configured (APFLOW_LLM_MODEL)");
    }
    // An agent with other problems still claims its role, so its tasks are not reported too.
    if (role === undefined) return;
    if (agents.has(role)) {
      reader.problem(`${path}.role`, `"${role}" is also the role of another agent; roles must be unique`);
      return;
    }
    agents.set(role, { role, goal: fill(goal ?? ""), backstory: fill(backstory), model });
  });

  const tasks: CrewTask[] = [];
  list(reader, spec.tasks, `${at}tasks`, "{ description, expectedOutput, agent }").forEach((raw, i) => {
    const path = `${at}tasks[${i}]`;
    const description = text(raw.description, `${path}.description`, true);
    const expectedOutput = text(raw.expectedOutput, `${path}.expectedOutput`, true);
    const agent = text(raw.agent, `${path}.agent`, true);
    if (agent !== undefined && agents.size > 0 && !agents.has(agent)) {
      reader.problem(`${path}.agent`, `no agent has the role "${agent}" (roles: ${[...agents.keys()].join(", ")})`);
    }
    if (description === undefined || expectedOutput === undefined || agent === undefined) return;
    tasks.push({ description: fill(description), expectedOutput: fill(expectedOutput), agent });
  });
  return { name: null, item: null, agents, tasks };
}

function list(reader: InputReader, value: JsonValue | undefined, path: string, shape: string): JsonObject[] {
  if (!Array.isArray(value) || value.length === 0) {
    reader.problem(
      path,
      value === undefined ? `is required: a non-empty array of ${shape}` : `must be a non-empty array of ${shape}`,
    );
    return [];
  }
  return value.flatMap((item, i) => {
    if (isJsonObject(item)) return [item];
    reader.problem(`${path}[${i}]`, `must be an object ${shape}`);
    return [];
  });
}

function readVariables(reader: InputReader, value: JsonValue | undefined, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isJsonObject(value)) {
    reader.problem(path, "must be an object of strings, numbers or booleans");
    return {};
  }
  const variables: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") variables[name] = String(v);
    else reader.problem(`${path}.${name}`, "must be a string, number or boolean");
  }
  return variables;
}

/** Replaces {name} for known names only, so other braces (JSON in a description) are left alone. */
function substitute(text: string, variables: Record<string, string>): string {
  return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) =>
    Object.hasOwn(variables, name) ? variables[name]! : whole,
  );
}
