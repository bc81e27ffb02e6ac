/**
 * `llm_executor`: one chat completion against any OpenAI-compatible endpoint, as a
 * task. Streams by default so a long answer shows progress (the tail of the text so
 * far) and a cancelled task stops the generation at once; JSON answers are parsed.
 */
import { ApflowError, ErrorCode } from "../core/errors.js";
import { defineExecutor, type Executor } from "../core/executor.js";
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
import { type ChatMessage, type ChatUsage, parseJsonReply } from "./openai-client.js";

export type LlmExecutorOptions = LlmOptions;

export interface LlmResult extends JsonObject {
  content: string;
  /** The parsed answer when JSON was requested (responseFormat json_object or json_schema), else null. */
  json: JsonValue;
  model: string;
  usage: ChatUsage | null;
  /** e.g. "stop", or "length" when maxTokens cut the answer. */
  finishReason: string | null;
}

const ID = "llm_executor";
const ROLES = ["system", "user", "assistant"] as const;
const DEFAULT_TIMEOUT_MS = 300_000;
/** Characters of the answer so far shown in a progress message. */
const PROGRESS_TAIL_CHARS = 200;
/** Without maxTokens, progress approaches 1 as tokens/(tokens + this). */
const PROGRESS_SCALE_TOKENS = 256;

const inputSchema = {
  type: "object",
  properties: {
    ...connectionProperties,
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        properties: {
          role: { type: "string", enum: [...ROLES] },
          content: { type: "string" },
        },
        required: ["role", "content"],
        additionalProperties: false,
      },
      description: "The conversation, e.g. [{ role: 'user', content: '...' }]. Give messages or prompt.",
    },
    prompt: { type: "string", minLength: 1, description: "A single user message, instead of messages." },
    system: { type: "string", description: "A system message put before the prompt or messages." },
    ...samplingProperties,
    responseFormat: {
      description:
        "Ask for JSON: 'json_object', or { type: 'json_schema', schema, name?, strict? } for JSON matching a " +
        "schema (enforced by the endpoint). The parsed answer is returned as `json`. Default 'text'.",
      oneOf: [
        { type: "string", enum: ["text", "json_object"] },
        {
          type: "object",
          properties: {
            type: { const: "json_schema" },
            schema: { type: "object", description: "The JSON Schema the answer must match." },
            name: { type: "string", pattern: "^[a-zA-Z0-9_-]{1,64}$", default: "response" },
            strict: { type: "boolean", default: true },
          },
          required: ["type", "schema"],
          additionalProperties: false,
        },
      ],
    },
    stream: {
      type: "boolean",
      default: true,
      description: "Stream the answer, reporting progress as it arrives; false waits for the whole answer.",
    },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_TIMEOUT_MS,
      description: "Limit for the whole exchange, retries included; then the task fails with TIMEOUT.",
    },
  },
  required: [],
  additionalProperties: false,
  oneOf: [{ required: ["messages"] }, { required: ["prompt"] }],
};

interface LlmInputs {
  connection: LlmConnection;
  model: string;
  messages: ChatMessage[];
  temperature: number | undefined;
  maxTokens: number | undefined;
  responseFormat: JsonObject | undefined;
  stream: boolean;
  timeoutMs: number;
}

/** Builds `llm_executor`; `options` are the node's LLM settings (endpoint, key, default model). */
export function createLlmExecutor(options: LlmExecutorOptions = {}): Executor {
  return defineExecutor({
    id: ID,
    description:
      "Sends a chat completion to an OpenAI-compatible endpoint and returns { content, json, model, usage, " +
      "finishReason }. Give a prompt (optionally with a system message) or a list of messages; responseFormat " +
      "asks for JSON, returned parsed as `json`. Streams by default, reporting the answer so far as progress. " +
      "429 and 5xx answers are retried; other HTTP errors fail the task.",
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw, options);
      ctx.logger.info("llm request", { model: input.model, stream: input.stream, messages: input.messages.length });
      let tokens = 0;
      const completion = await withDeadline(
        ctx.signal,
        input.timeoutMs,
        () => `${ID}: no complete answer from ${input.model} within ${input.timeoutMs} ms`,
        (signal) =>
          input.connection.client.chat(
            {
              model: input.model,
              messages: input.messages,
              temperature: input.temperature,
              maxTokens: input.maxTokens,
              responseFormat: input.responseFormat,
              stream: input.stream,
            },
            {
              signal,
              logger: ctx.logger,
              onDelta: (_delta, text) => {
                tokens++;
                const scale = input.maxTokens ?? tokens + PROGRESS_SCALE_TOKENS;
                ctx.reportProgress(Math.min(0.99, tokens / scale), text.slice(-PROGRESS_TAIL_CHARS));
              },
            },
          ),
      );
      const result: LlmResult = {
        content: completion.content,
        json: null,
        model: completion.model,
        usage: completion.usage,
        finishReason: completion.finishReason,
      };
      if (input.responseFormat !== undefined) result.json = parseAnswer(completion.content, result);
      return result;
    },
  });
}

function parseAnswer(content: string, result: LlmResult): JsonValue {
  let json: JsonValue;
  try {
    json = parseJsonReply(content);
  } catch (error) {
    const cut = result.finishReason === "length" ? " (the answer was cut at maxTokens)" : "";
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `${ID}: JSON was requested but the answer is not JSON${cut}`, {
      reason: (error as Error).message,
      finishReason: result.finishReason,
      content: content.length > 2000 ? `${content.slice(0, 2000)}...` : content,
    });
  }
  return json;
}

function readInputs(raw: JsonObject, options: LlmExecutorOptions): LlmInputs {
  const reader = new InputReader(ID, raw);
  const connection = readConnection(reader, options, ID);
  const model = requireModel(reader, connection);
  const messages = readMessages(reader);
  const { temperature, maxTokens } = readSampling(reader);
  const responseFormat = readResponseFormat(reader);
  const input: LlmInputs = {
    connection,
    model,
    messages,
    temperature,
    maxTokens,
    responseFormat,
    stream: reader.boolean("stream") ?? true,
    timeoutMs: reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS,
  };
  reader.finish();
  return input;
}

function readMessages(reader: InputReader): ChatMessage[] {
  const system = reader.string("system");
  const prompt = reader.string("prompt", { nonEmpty: true });
  const list = reader.raw("messages");
  const messages: ChatMessage[] = system === undefined ? [] : [{ role: "system", content: system }];
  if (list !== undefined && prompt !== undefined) {
    reader.problem("prompt", "cannot be combined with messages: give one of them");
  } else if (list === undefined && prompt === undefined) {
    reader.problem("prompt", "is required (or give messages)");
  } else if (prompt !== undefined) {
    messages.push({ role: "user", content: prompt });
  } else if (!Array.isArray(list) || list.length === 0) {
    reader.problem("messages", "must be a non-empty array of { role, content }");
  } else {
    list.forEach((item, i) => {
      const role = isJsonObject(item) ? item.role : undefined;
      const content = isJsonObject(item) ? item.content : undefined;
      if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
        reader.problem(`messages[${i}].role`, `must be one of ${ROLES.join(", ")}`);
      } else if (typeof content !== "string") {
        reader.problem(`messages[${i}].content`, "must be a string");
      } else {
        messages.push({ role: role as ChatMessage["role"], content });
      }
    });
  }
  return messages;
}

function readResponseFormat(reader: InputReader): JsonObject | undefined {
  const value = reader.raw("responseFormat");
  if (value === undefined || value === "text") return undefined;
  if (value === "json_object") return { type: "json_object" };
  if (isJsonObject(value) && value.type === "json_schema" && isJsonObject(value.schema)) {
    const name = value.name ?? "response";
    const strict = value.strict ?? true;
    if (typeof name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
      reader.problem("responseFormat.name", "must be 1 to 64 letters, digits, _ or -");
    }
    if (typeof strict !== "boolean") reader.problem("responseFormat.strict", "must be a boolean");
    // The endpoint enforces the schema (strict); it is not compiled here, as task-given schemas are untrusted.
    return { type: "json_schema", json_schema: { name, schema: value.schema, strict } };
  }
  reader.problem("responseFormat", "must be 'text', 'json_object' or { type: 'json_schema', schema }");
  return undefined;
}
