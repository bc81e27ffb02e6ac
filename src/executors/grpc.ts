/**
 * `grpc_executor`: one unary gRPC call, as a task. The service is described by a .proto
 * file on the node or, without one, fetched from the server by reflection
 * (grpc-reflection.ts). Requests and responses are JSON objects with the .proto's field
 * names; the request is checked against the message type first, because protobuf
 * encoding silently drops unknown fields and coerces wrong types, which would turn a
 * typo into a call with default values.
 *
 * Task inputs choose the address, so it passes the private-address guard of
 * rest_executor, and the channel is pinned to the checked addresses (`ipv4:`/`ipv6:`
 * targets) while TLS and :authority keep using the host name.
 */
import type { LookupAddress } from "node:dns";
import { isIP } from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ApflowError, ErrorCode, type Problem } from "../core/errors.js";
import { defineExecutor, type Executor } from "../core/executor.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { checkedAddresses, guardOptions } from "./address-guard.js";
import { bounded } from "./deadline.js";
import { loadByReflection } from "./grpc-reflection.js";
import { InputReader, isJsonObject, MAX_TIMER_MS } from "./inputs.js";
import type { ResolveHost } from "./url-guard.js";

export interface GrpcExecutorOptions {
  /** Allow loopback, private and link-local addresses (APFLOW_GRPC_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Host names or IP literals exempt from the private-address guard. */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guard (custom resolvers, tests). @defaultValue dns.lookup */
  resolve?: ResolveHost;
}

interface GrpcInputs {
  host: string;
  port: number;
  service: string;
  method: string;
  request: JsonObject;
  protoPath: string | undefined;
  includeDirs: string[];
  metadata: grpc.Metadata;
  deadlineMs: number;
  tls: boolean;
  insecure: boolean;
}

const ID = "grpc_executor";
const SETTING = "APFLOW_GRPC_ALLOW_PRIVATE_URLS";
const DEFAULT_DEADLINE_MS = 30_000;
const DEFAULT_PORT = 443;
/** How the response (and the request check) see messages: JSON-safe, defaults included. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: String,
  defaults: true,
  oneofs: true,
  json: true,
};

const inputSchema = {
  type: "object",
  properties: {
    address: {
      type: "string",
      minLength: 1,
      description: "Server as host:port (IPv6 as [addr]:port); the port defaults to 443.",
    },
    service: {
      type: "string",
      minLength: 1,
      description: "Fully-qualified service name, e.g. helloworld.Greeter.",
    },
    method: { type: "string", minLength: 1, description: "Method name as in the .proto, e.g. SayHello." },
    request: {
      type: "object",
      default: {},
      description:
        "The request message as JSON, with the .proto's field names (lowerCamelCase also accepted); 64-bit " +
        "integers may be strings, enums names or numbers, bytes base64. Unknown fields are rejected.",
    },
    protoPath: {
      type: "string",
      minLength: 1,
      description:
        "Path on the node of the .proto file defining the service; without it the service is fetched by " +
        "server reflection (grpc.reflection.v1 or v1alpha).",
    },
    includeDirs: {
      type: "array",
      items: { type: "string", minLength: 1 },
      description: "Directories searched for the .proto file and its imports.",
    },
    metadata: {
      type: "object",
      additionalProperties: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
      description: "Request metadata (headers); keys ending in -bin take base64 values.",
    },
    deadlineMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_DEADLINE_MS,
      description: "Deadline for the call (reflection included); then the task fails with TIMEOUT.",
    },
    tls: {
      type: "boolean",
      default: true,
      description: "Connect with TLS; false for a plaintext (h2c) server.",
    },
    insecure: {
      type: "boolean",
      default: false,
      description: "With tls, skip verifying the server's certificate (self-signed and invalid ones pass).",
    },
  },
  required: ["address", "service", "method"],
  additionalProperties: false,
};

/** Builds `grpc_executor`; unless `allowPrivateUrls`, only public addresses are reachable. */
export function createGrpcExecutor(options: GrpcExecutorOptions = {}): Executor {
  return defineExecutor({
    id: ID,
    description:
      "Makes one unary gRPC call and returns the response message as JSON (field names as in the .proto, enums " +
      "as names, 64-bit integers as strings, bytes as base64, default values included). The service comes from " +
      "protoPath or from server reflection. A gRPC error status fails the task with EXECUTOR_FAILED (the code " +
      "name in details.grpcCode); DEADLINE_EXCEEDED fails it with TIMEOUT. Private, loopback and link-local " +
      `addresses are refused unless the node allows them (${SETTING}=1).`,
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      ctx.signal.throwIfAborted();
      const deadline = new Date(Date.now() + input.deadlineMs);
      // DNS lookups cannot be aborted: bound the guard by the deadline and the signal.
      const addresses = await bounded(guard(input, options), ctx.signal, input.deadlineMs, () =>
        deadlineError(input, "resolving the address"),
      );
      ctx.signal.throwIfAborted();
      const client = new grpc.Client(target(input, addresses), credentials(input), channelOptions(input, addresses));
      const what = `${input.service}/${input.method}`;
      try {
        const definition = input.protoPath
          ? await loadProto(input)
          : await loadByReflection(
              client,
              input.service,
              { metadata: input.metadata, deadline, signal: ctx.signal },
              LOADER_OPTIONS,
            );
        const method = findMethod(definition, input);
        const request = encodeRequest(definition, method, input.request);
        ctx.logger.debug("grpc call", { address: `${input.host}:${input.port}`, method: what, tls: input.tls });
        return await unaryCall(client, method, request, input.metadata, deadline, ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (isServiceError(error)) throw statusError(error, what, input);
        throw error;
      } finally {
        client.close();
      }
    },
  });
}

function readInputs(raw: JsonObject): GrpcInputs {
  const reader = new InputReader(ID, raw);
  const address = reader.string("address", { required: true, nonEmpty: true });
  const parsed = address === undefined ? undefined : parseAddress(address);
  if (address !== undefined && parsed === undefined) {
    reader.problem("address", "must be host:port, [ipv6]:port or host (port 443)");
  }
  const service = reader.string("service", { required: true, nonEmpty: true });
  if (service !== undefined && !/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(service)) {
    reader.problem("service", "must be a fully-qualified service name such as helloworld.Greeter");
  }
  const protoPath = reader.string("protoPath", { nonEmpty: true });
  // Only .proto files: parse errors quote the file, which must not expose other files of the node.
  if (protoPath !== undefined && !protoPath.endsWith(".proto")) reader.problem("protoPath", "must be a .proto file");
  const tls = reader.boolean("tls") ?? true;
  const insecure = reader.boolean("insecure") ?? false;
  if (insecure && !tls) reader.problem("insecure", "applies only with tls: true");
  const input: GrpcInputs = {
    host: parsed?.host ?? "",
    port: parsed?.port ?? DEFAULT_PORT,
    service: service ?? "",
    method: reader.string("method", { required: true, nonEmpty: true }) ?? "",
    request: reader.object("request") ?? {},
    protoPath,
    includeDirs: reader.stringArray("includeDirs") ?? [],
    metadata: readMetadata(reader),
    deadlineMs: reader.integer("deadlineMs", 1, MAX_TIMER_MS) ?? DEFAULT_DEADLINE_MS,
    tls,
    insecure,
  };
  reader.finish();
  return input;
}

function parseAddress(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/[\]@]+))(?::(\d{1,5}))?$/.exec(address);
  if (!match) return undefined;
  const host = match[1] ?? match[2]!;
  const port = match[3] === undefined ? DEFAULT_PORT : Number(match[3]);
  if (port < 1 || port > 65535 || (match[1] !== undefined && isIP(host) !== 6)) return undefined;
  return { host, port };
}

function readMetadata(reader: InputReader): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(reader.object("metadata") ?? {})) {
    const values = typeof value === "string" ? [value] : value;
    if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
      reader.problem(`metadata.${key}`, "must be a string or an array of strings");
      continue;
    }
    try {
      for (const v of values as string[]) metadata.add(key, key.endsWith("-bin") ? Buffer.from(v, "base64") : v);
    } catch {
      // The message of grpc-js names the key only; values (credentials) are never quoted.
      reader.problem(`metadata.${key}`, "is not a valid metadata key (lower-case letters, digits, -, _ and .)");
    }
  }
  return metadata;
}

/** The private-address guard of rest_executor, with this executor's message and setting. */
async function guard(input: GrpcInputs, options: GrpcExecutorOptions): Promise<LookupAddress[] | null> {
  const literal = isIP(input.host) === 6 ? `[${input.host}]` : input.host;
  return checkedAddresses(
    new URL(`http://${literal}`),
    guardOptions(options.allowPrivateUrls, options),
    (what) =>
      `${ID} refused ${literal}:${input.port}: ${what}. Set ${SETTING}=1 to allow private, loopback and ` +
      "link-local addresses",
  );
}

function deadlineError(input: GrpcInputs, during: string, details: Record<string, unknown> = {}): ApflowError {
  return new ApflowError(
    ErrorCode.TIMEOUT,
    `${input.service}/${input.method} exceeded its deadline of ${input.deadlineMs} ms ${during}`,
    { deadlineMs: input.deadlineMs, ...details },
  );
}

/** The channel target: the checked addresses when pinned, else the host for gRPC's own resolver. */
function target(input: GrpcInputs, addresses: LookupAddress[] | null): string {
  const literal = isIP(input.host) === 6 ? `[${input.host}]` : input.host;
  if (addresses === null) return `dns:${literal}:${input.port}`;
  const family = addresses[0]!.family;
  const same = addresses.filter((a) => a.family === family);
  return family === 6
    ? `ipv6:${same.map((a) => `[${a.address}]:${input.port}`).join(",")}`
    : `ipv4:${same.map((a) => `${a.address}:${input.port}`).join(",")}`;
}

function channelOptions(input: GrpcInputs, addresses: LookupAddress[] | null): grpc.ChannelOptions {
  const options: grpc.ChannelOptions = {
    // Connections of this call only: closing the client then closes them, and no other call reuses them.
    "grpc.use_local_subchannel_pool": 1,
  };
  if (addresses !== null) {
    const literal = isIP(input.host) === 6 ? `[${input.host}]` : input.host;
    options["grpc.default_authority"] = input.port === DEFAULT_PORT ? literal : `${literal}:${input.port}`;
    // TLS checks the certificate against the host name, not the pinned address (an IP cannot be an SNI name).
    if (isIP(input.host) === 0) options["grpc.ssl_target_name_override"] = input.host;
  }
  return options;
}

function credentials(input: GrpcInputs): grpc.ChannelCredentials {
  if (!input.tls) return grpc.credentials.createInsecure();
  if (!input.insecure) return grpc.credentials.createSsl();
  return grpc.credentials.createSsl(null, null, null, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
}

async function loadProto(input: GrpcInputs): Promise<protoLoader.PackageDefinition> {
  try {
    return await protoLoader.load(input.protoPath!, { ...LOADER_OPTIONS, includeDirs: input.includeDirs });
  } catch (error) {
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `could not load protoPath ${input.protoPath}: ${(error as Error).message}`,
      { protoPath: input.protoPath, includeDirs: input.includeDirs },
      { cause: error },
    );
  }
}

type MethodDefinition = protoLoader.MethodDefinition<object, object>;

function findMethod(definition: protoLoader.PackageDefinition, input: GrpcInputs): MethodDefinition {
  const service = definition[input.service];
  if (service === undefined || "format" in service) {
    const services = Object.keys(definition).filter((name) => !("format" in definition[name]!));
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `service ${input.service} is not defined (defined: ${services.join(", ") || "none"})`,
      { service: input.service, services },
    );
  }
  const method = (service as protoLoader.ServiceDefinition)[input.method];
  if (method === undefined) {
    const methods = Object.keys(service);
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `service ${input.service} has no method ${input.method} (methods: ${methods.join(", ")})`,
      { service: input.service, method: input.method, methods },
    );
  }
  if (method.requestStream || method.responseStream) {
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `${input.service}/${input.method} is a streaming method; ${ID} makes unary calls only`,
      { requestStream: method.requestStream, responseStream: method.responseStream },
    );
  }
  return method;
}

function unaryCall(
  client: grpc.Client,
  method: MethodDefinition,
  request: Buffer,
  metadata: grpc.Metadata,
  deadline: Date,
  signal: AbortSignal,
): Promise<JsonObject> {
  return new Promise((resolve, reject) => {
    const call = client.makeUnaryRequest(
      method.path,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => method.responseDeserialize(bytes) as JsonObject,
      request,
      metadata,
      { deadline },
      (error, response) => {
        signal.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(response!);
      },
    );
    const onAbort = () => call.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as grpc.ServiceError).code === "number" && "metadata" in error;
}

function statusError(error: grpc.ServiceError, what: string, input: GrpcInputs): ApflowError {
  const grpcCode = grpc.status[error.code] ?? String(error.code);
  const details = { grpcCode, grpcStatus: error.code, grpcDetails: error.details.slice(0, 1000) };
  if (error.code === grpc.status.DEADLINE_EXCEEDED) return deadlineError(input, "waiting for the server", details);
  const hint =
    error.code !== grpc.status.UNAVAILABLE
      ? ""
      : input.tls
        ? " (if the server is plaintext, set tls: false; for a self-signed certificate, insecure: true)"
        : " (if the server uses TLS, set tls: true)";
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `${what} failed with ${grpcCode}: ${error.details.slice(0, 500)}${hint}`,
    details,
    { cause: error },
  );
}

// --- Request check -------------------------------------------------------------------------

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}

interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  enumType: EnumDescriptor[];
  oneofDecl: { name: string }[];
  options: { mapEntry?: boolean } | null;
}

interface EnumDescriptor {
  name: string;
  value: { name: string; number: number }[];
}

interface TypeIndex {
  messages: Map<string, MessageDescriptor>;
  enums: Map<string, EnumDescriptor>;
}

const INT_TYPES = new Set([
  "TYPE_INT32",
  "TYPE_UINT32",
  "TYPE_SINT32",
  "TYPE_FIXED32",
  "TYPE_SFIXED32",
  "TYPE_INT64",
  "TYPE_UINT64",
  "TYPE_SINT64",
  "TYPE_FIXED64",
  "TYPE_SFIXED64",
]);

/** Checks the request against its message type, renames lowerCamelCase keys, and encodes it. */
function encodeRequest(definition: protoLoader.PackageDefinition, method: MethodDefinition, request: JsonObject) {
  const index = typeIndex(definition);
  const problems: Problem[] = [];
  const typeName = findTypeName(index, method.requestType.type as MessageDescriptor);
  const checked = typeName === undefined ? request : checkMessage(request, typeName, "request", index, problems);
  if (problems.length === 0) {
    try {
      return method.requestSerialize(checked as object);
    } catch (error) {
      problems.push({ path: "inputs.request", code: ErrorCode.VALIDATION_ERROR, message: (error as Error).message });
    }
  }
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n");
  throw new ApflowError(ErrorCode.VALIDATION_ERROR, `Invalid inputs for ${ID}:\n${lines}`, { problems });
}

function typeIndex(definition: protoLoader.PackageDefinition): TypeIndex {
  const index: TypeIndex = { messages: new Map(), enums: new Map() };
  const visit = (name: string, type: MessageDescriptor) => {
    index.messages.set(name, type);
    for (const nested of type.nestedType) visit(`${name}.${nested.name}`, nested);
    for (const nested of type.enumType) index.enums.set(`${name}.${nested.name}`, nested);
  };
  for (const [name, entry] of Object.entries(definition)) {
    if (entry.format === "Protocol Buffer 3 DescriptorProto") visit(name, entry.type as MessageDescriptor);
    else if (entry.format === "Protocol Buffer 3 EnumDescriptorProto")
      index.enums.set(name, entry.type as EnumDescriptor);
  }
  return index;
}

/** The full name of the method's request type (the method holds a copy with its short name only). */
function findTypeName(index: TypeIndex, type: MessageDescriptor): string | undefined {
  const candidates = [...index.messages].filter(([, candidate]) => candidate.name === type.name);
  if (candidates.length === 1) return candidates[0]![0];
  const shape = JSON.stringify(type);
  return candidates.find(([, candidate]) => JSON.stringify(candidate) === shape)?.[0];
}

/** Resolves a type reference as protoc does: in the referring scope, then in each enclosing one. */
function resolve<T>(types: Map<string, T>, scope: string, reference: string): [string, T] | undefined {
  if (reference.startsWith(".")) {
    const found = types.get(reference.slice(1));
    return found === undefined ? undefined : [reference.slice(1), found];
  }
  const parts = scope.split(".");
  for (let i = parts.length; i >= 0; i--) {
    const name = [...parts.slice(0, i), reference].join(".");
    const found = types.get(name);
    if (found !== undefined) return [name, found];
  }
  return undefined;
}

const jsonName = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function checkMessage(value: JsonValue, typeName: string, path: string, index: TypeIndex, problems: Problem[]) {
  const type = index.messages.get(typeName);
  // Well-known types have their own JSON forms, which the encoder knows; they are not checked here.
  if (type === undefined || typeName.startsWith("google.protobuf.")) return value;
  if (!isJsonObject(value)) {
    problems.push(problem(path, `must be an object (message ${typeName})`));
    return value;
  }
  const out: JsonObject = {};
  for (const [key, member] of Object.entries(value)) {
    const field = type.field.find((f) => f.name === key) ?? type.field.find((f) => jsonName(f.name) === key);
    if (field === undefined) {
      if (type.oneofDecl.some((o) => o.name === key)) continue; // the virtual "which field is set" member
      const names = type.field.map((f) => f.name).join(", ");
      problems.push(problem(`${path}.${key}`, `is not a field of ${typeName} (fields: ${names || "none"})`));
      continue;
    }
    out[field.name] = member === null ? null : checkField(member, field, typeName, `${path}.${key}`, index, problems);
  }
  return out;
}

function checkField(
  value: JsonValue,
  field: FieldDescriptor,
  scope: string,
  path: string,
  index: TypeIndex,
  problems: Problem[],
): JsonValue {
  const message = field.type === "TYPE_MESSAGE" ? resolve(index.messages, scope, field.typeName) : undefined;
  if (message?.[1].options?.mapEntry) {
    if (!isJsonObject(value)) {
      problems.push(problem(path, "must be an object (a map)"));
      return value;
    }
    const valueField = message[1].field.find((f) => f.number === 2)!;
    const out: JsonObject = {};
    for (const [key, member] of Object.entries(value)) {
      out[key] = checkSingle(member, valueField, message[0], `${path}.${key}`, index, problems);
    }
    return out;
  }
  if (field.label === "LABEL_REPEATED") {
    if (!Array.isArray(value)) {
      problems.push(problem(path, "must be an array"));
      return value;
    }
    return value.map((item, i) => checkSingle(item, field, scope, `${path}[${i}]`, index, problems));
  }
  return checkSingle(value, field, scope, path, index, problems);
}

function checkSingle(
  value: JsonValue,
  field: FieldDescriptor,
  scope: string,
  path: string,
  index: TypeIndex,
  problems: Problem[],
): JsonValue {
  if (field.type === "TYPE_MESSAGE" || field.type === "TYPE_GROUP") {
    const message = resolve(index.messages, scope, field.typeName);
    return message === undefined ? value : checkMessage(value, message[0], path, index, problems);
  }
  const wrong = scalarProblem(value, field, scope, index);
  if (wrong !== null) problems.push(problem(path, wrong));
  return value;
}

function scalarProblem(value: JsonValue, field: FieldDescriptor, scope: string, index: TypeIndex): string | null {
  switch (field.type) {
    case "TYPE_STRING":
      return typeof value === "string" ? null : "must be a string";
    case "TYPE_BYTES":
      return typeof value === "string" ? null : "must be a base64 string";
    case "TYPE_BOOL":
      return typeof value === "boolean" ? null : "must be a boolean";
    case "TYPE_DOUBLE":
    case "TYPE_FLOAT":
      return typeof value === "number" || ["NaN", "Infinity", "-Infinity"].includes(value as string)
        ? null
        : "must be a number";
    case "TYPE_ENUM": {
      const found = resolve(index.enums, scope, field.typeName);
      if (found === undefined || Number.isInteger(value)) return null;
      const names = found[1].value.map((v) => v.name);
      return typeof value === "string" && names.includes(value) ? null : `must be one of ${names.join(", ")}`;
    }
    default:
      if (!INT_TYPES.has(field.type)) return null;
      return Number.isInteger(value) || (typeof value === "string" && /^-?\d+$/.test(value))
        ? null
        : "must be an integer (or a string of digits)";
  }
}

function problem(path: string, message: string): Problem {
  return { path: `inputs.${path}`, code: ErrorCode.VALIDATION_ERROR, message };
}
