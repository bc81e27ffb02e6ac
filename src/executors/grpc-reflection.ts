/**
 * The client side of gRPC server reflection, so `grpc_executor` can call a service
 * without its .proto file: it asks the server (grpc.reflection.v1, falling back to
 * v1alpha) for the file that defines the service and for every file that one imports,
 * and turns those descriptors into a package definition, as loading the .proto would.
 *
 * The reflection messages and the parts of descriptor.proto read here are described
 * inline: @grpc/reflection, which ships reflection.proto, is only a dev dependency (tests
 * use its server side). The descriptors are converted to protobufjs JSON by hand rather
 * than with proto-loader's loadFileDescriptorSet*, because protobufjs's fromDescriptor
 * turns map fields into lists of key/value entries, so JSON maps would not fit them.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ApflowError, ErrorCode } from "../core/errors.js";

/** Reflection API packages, newest first; their messages are identical. */
const VERSIONS = ["grpc.reflection.v1", "grpc.reflection.v1alpha"] as const;
/** A server answering with ever more imports is cut off here. */
const MAX_FILES = 500;

const field = (type: string, id: number, repeated = false) =>
  repeated ? { type, id, rule: "repeated" } : { type, id };

/** The subset of reflection.proto used here (unused members are skipped when decoding). */
const REFLECTION_TYPES = {
  nested: {
    reflection: {
      nested: {
        ServerReflectionRequest: {
          oneofs: { message_request: { oneof: ["file_by_filename", "file_containing_symbol", "list_services"] } },
          fields: {
            host: field("string", 1),
            file_by_filename: field("string", 3),
            file_containing_symbol: field("string", 4),
            list_services: field("string", 7),
          },
        },
        ServerReflectionResponse: {
          fields: {
            file_descriptor_response: field("FileDescriptorResponse", 4),
            list_services_response: field("ListServiceResponse", 6),
            error_response: field("ErrorResponse", 7),
          },
        },
        FileDescriptorResponse: { fields: { file_descriptor_proto: field("bytes", 1, true) } },
        ListServiceResponse: { fields: { service: field("ServiceResponse", 1, true) } },
        ServiceResponse: { fields: { name: field("string", 1) } },
        ErrorResponse: { fields: { error_code: field("int32", 1), error_message: field("string", 2) } },
        // From descriptor.proto: what a FileDescriptorProto says about messages, enums and services.
        File: {
          fields: {
            name: field("string", 1),
            package: field("string", 2),
            dependency: field("string", 3, true),
            message_type: field("Message", 4, true),
            enum_type: field("Enum", 5, true),
            service: field("Service", 6, true),
          },
        },
        Message: {
          fields: {
            name: field("string", 1),
            field: field("Field", 2, true),
            nested_type: field("Message", 3, true),
            enum_type: field("Enum", 4, true),
            options: field("MessageOptions", 7),
            oneof_decl: field("Oneof", 8, true),
          },
        },
        MessageOptions: { fields: { map_entry: field("bool", 7) } },
        Field: {
          fields: {
            name: field("string", 1),
            number: field("int32", 3),
            label: field("int32", 4),
            type: field("int32", 5),
            type_name: field("string", 6),
            oneof_index: field("int32", 9),
          },
        },
        Oneof: { fields: { name: field("string", 1) } },
        Enum: { fields: { name: field("string", 1), value: field("EnumValue", 2, true) } },
        EnumValue: { fields: { name: field("string", 1), number: field("int32", 2) } },
        Service: { fields: { name: field("string", 1), method: field("Method", 2, true) } },
        Method: {
          fields: {
            name: field("string", 1),
            input_type: field("string", 2),
            output_type: field("string", 3),
            client_streaming: field("bool", 5),
            server_streaming: field("bool", 6),
          },
        },
      },
    },
  },
};

interface ReflectionRequest {
  file_by_filename?: string;
  file_containing_symbol?: string;
  list_services?: string;
}

interface ReflectionResponse {
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  list_services_response?: { service: { name: string }[] };
  error_response?: { error_code: number; error_message: string };
}

/** Decoded descriptor.proto messages (unset members are absent: `oneof_index` 0 is not "none"). */
interface FileDescriptor {
  name: string;
  package?: string;
  dependency: string[];
  message_type: MessageDescriptor[];
  enum_type: EnumDescriptor[];
  service: ServiceDescriptor[];
}

interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nested_type: MessageDescriptor[];
  enum_type: EnumDescriptor[];
  options?: { map_entry?: boolean };
  oneof_decl: { name: string }[];
}

interface FieldDescriptor {
  name: string;
  number: number;
  label?: number;
  type?: number;
  type_name?: string;
  oneof_index?: number;
}

interface EnumDescriptor {
  name: string;
  value: { name: string; number?: number }[];
}

interface ServiceDescriptor {
  name: string;
  method: {
    name: string;
    input_type: string;
    output_type: string;
    client_streaming?: boolean;
    server_streaming?: boolean;
  }[];
}

const types = protoLoader.fromJSON(REFLECTION_TYPES, { keepCase: true, longs: Number, arrays: true });
const message = (name: string) => types[`reflection.${name}`] as protoLoader.MessageTypeDefinition<object, object>;
const requestType = message("ServerReflectionRequest");
const responseType = message("ServerReflectionResponse");
const fileType = message("File");

export interface ReflectionCallOptions {
  metadata: grpc.Metadata;
  deadline: Date;
  signal: AbortSignal;
}

/**
 * The package definition of `service` and everything it depends on, as the server at
 * `client` describes it. gRPC errors of the reflection stream are thrown as they come
 * (a `grpc.ServiceError`), except that a server without reflection gets a clear message.
 */
export async function loadByReflection(
  client: grpc.Client,
  service: string,
  call: ReflectionCallOptions,
  loaderOptions: protoLoader.Options,
): Promise<protoLoader.PackageDefinition> {
  let files: Map<string, FileDescriptor> | undefined;
  for (const version of VERSIONS) {
    const session = new ReflectionSession(client, version, call);
    try {
      files = await fetchFiles(session, service);
      break;
    } catch (error) {
      if (!isUnimplemented(error)) throw error;
    } finally {
      session.close();
    }
  }
  if (!files) {
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      "the server does not offer gRPC server reflection (grpc.reflection.v1 or v1alpha): give protoPath instead",
      { grpcCode: "UNIMPLEMENTED" },
    );
  }
  try {
    return protoLoader.fromJSON(toNamespace([...files.values()]), loaderOptions);
  } catch (error) {
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `the descriptors the server returned for ${service} are incomplete or invalid: ${(error as Error).message}`,
      { files: [...files.keys()] },
      { cause: error },
    );
  }
}

/** The file defining `service`, then every file it imports, transitively, keyed by file name. */
async function fetchFiles(session: ReflectionSession, service: string): Promise<Map<string, FileDescriptor>> {
  const files = new Map<string, FileDescriptor>();
  const add = (response: ReflectionResponse) => {
    for (const bytes of response.file_descriptor_response?.file_descriptor_proto ?? []) {
      const file = fileType.deserialize(bytes) as FileDescriptor;
      if (!files.has(file.name)) files.set(file.name, file);
    }
  };
  const first = await session.ask({ file_containing_symbol: service });
  if (first.error_response) {
    if (first.error_response.error_code !== grpc.status.NOT_FOUND) throw reflectionError(first, service);
    const offered = (await session.ask({ list_services: "*" })).list_services_response?.service ?? [];
    const names = offered.map((s) => s.name).filter((name) => !name.startsWith("grpc.reflection."));
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `the server does not offer service ${service} (it offers: ${names.join(", ") || "none"})`,
      { service, offered: names },
    );
  }
  add(first);
  // Imports are asked for by file name; one the server names differently is asked for once.
  const asked = new Set<string>();
  for (;;) {
    const missing = [...files.values()]
      .flatMap((file) => file.dependency)
      .find((name) => !files.has(name) && !asked.has(name));
    if (missing === undefined) return files;
    if (asked.size >= MAX_FILES) {
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `server reflection needed more than ${MAX_FILES} files`);
    }
    asked.add(missing);
    const response = await session.ask({ file_by_filename: missing });
    if (response.error_response) throw reflectionError(response, missing);
    add(response);
  }
}

// --- Descriptors to protobufjs JSON ----------------------------------------------------------

type Json = { [key: string]: unknown };
type Namespace = { nested: Record<string, Json> };

/** protobufjs names of descriptor.proto's FieldDescriptorProto.Type values. */
const SCALARS: Record<number, string> = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};
const LABEL_REPEATED = 3;
const LABEL_REQUIRED = 2;

function toNamespace(files: FileDescriptor[]): Namespace {
  const root: Namespace = { nested: {} };
  for (const file of files) {
    let scope = root;
    for (const part of (file.package ?? "").split(".").filter(Boolean)) {
      scope.nested[part] ??= { nested: {} };
      const next = scope.nested[part];
      next.nested ??= {};
      scope = next as Namespace;
    }
    for (const type of file.message_type) scope.nested[type.name] = messageJson(type);
    for (const type of file.enum_type) scope.nested[type.name] = enumJson(type);
    for (const service of file.service) scope.nested[service.name] = serviceJson(service);
  }
  return root;
}

function messageJson(type: MessageDescriptor): Json {
  const entries = new Map(type.nested_type.filter((n) => n.options?.map_entry).map((n) => [n.name, n]));
  const fields: Json = {};
  const oneofs = new Map<string, string[]>();
  for (const f of type.field) {
    // A map is declared as a repeated field of a nested XxxEntry { key = 1; value = 2 } message.
    const entry = f.label === LABEL_REPEATED ? entries.get(f.type_name?.split(".").pop() ?? "") : undefined;
    if (entry) {
      const key = entry.field.find((e) => e.number === 1)!;
      const value = entry.field.find((e) => e.number === 2)!;
      fields[f.name] = { keyType: typeRef(key), type: typeRef(value), id: f.number };
      continue;
    }
    const rule = f.label === LABEL_REPEATED ? "repeated" : f.label === LABEL_REQUIRED ? "required" : undefined;
    fields[f.name] = rule ? { type: typeRef(f), id: f.number, rule } : { type: typeRef(f), id: f.number };
    if (f.oneof_index !== undefined) {
      const name = type.oneof_decl[f.oneof_index]?.name ?? `oneof${f.oneof_index}`;
      oneofs.set(name, [...(oneofs.get(name) ?? []), f.name]);
    }
  }
  const nested: Json = {};
  for (const inner of type.nested_type) if (!entries.has(inner.name)) nested[inner.name] = messageJson(inner);
  for (const inner of type.enum_type) nested[inner.name] = enumJson(inner);
  const json: Json = { fields };
  if (oneofs.size > 0) json.oneofs = Object.fromEntries([...oneofs].map(([name, oneof]) => [name, { oneof }]));
  if (Object.keys(nested).length > 0) json.nested = nested;
  return json;
}

/** A scalar's protobufjs name, or the referenced type's full name (".pkg.Type", resolved from the root). */
function typeRef(f: FieldDescriptor): string {
  return (f.type !== undefined ? SCALARS[f.type] : undefined) ?? f.type_name ?? "bytes";
}

function enumJson(type: EnumDescriptor): Json {
  return { values: Object.fromEntries(type.value.map((v) => [v.name, v.number ?? 0])) };
}

function serviceJson(service: ServiceDescriptor): Json {
  const methods: Json = {};
  for (const m of service.method) {
    methods[m.name] = {
      requestType: m.input_type,
      responseType: m.output_type,
      ...(m.client_streaming ? { requestStream: true } : {}),
      ...(m.server_streaming ? { responseStream: true } : {}),
    };
  }
  return { methods };
}

function reflectionError(response: ReflectionResponse, subject: string): ApflowError {
  const { error_code, error_message } = response.error_response!;
  const code = grpc.status[error_code] ?? String(error_code);
  return new ApflowError(
    ErrorCode.EXECUTOR_FAILED,
    `server reflection failed for ${subject}: ${code}${error_message ? `: ${error_message}` : ""}`,
    { grpcCode: code },
  );
}

function isUnimplemented(error: unknown): boolean {
  return (error as grpc.ServiceError | undefined)?.code === grpc.status.UNIMPLEMENTED;
}

/** One ServerReflectionInfo stream, used as request/response pairs, one at a time. */
class ReflectionSession {
  private readonly stream: grpc.ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
  private readonly waiting: { resolve(r: ReflectionResponse): void; reject(e: unknown): void }[] = [];
  private failure: unknown;
  private readonly onAbort = () => this.stream.cancel();

  constructor(
    client: grpc.Client,
    version: string,
    private readonly call: ReflectionCallOptions,
  ) {
    this.stream = client.makeBidiStreamRequest(
      `/${version}.ServerReflection/ServerReflectionInfo`,
      (value: ReflectionRequest) => Buffer.from(requestType.serialize(value)),
      (bytes: Buffer) => responseType.deserialize(bytes) as ReflectionResponse,
      call.metadata,
      { deadline: call.deadline },
    );
    this.stream.on("data", (response: ReflectionResponse) => this.waiting.shift()?.resolve(response));
    this.stream.on("error", (error) => this.fail(error));
    this.stream.on("end", () => this.fail(new Error("the server ended the reflection stream early")));
    call.signal.addEventListener("abort", this.onAbort, { once: true });
  }

  ask(request: ReflectionRequest): Promise<ReflectionResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.stream.write(request);
    });
  }

  close(): void {
    this.call.signal.removeEventListener("abort", this.onAbort);
    this.stream.end();
    this.stream.cancel();
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}
