/**
 * apflow's configuration: every setting, its default, and its validation, in one
 * place. This is the only module that reads process.env; everything else receives
 * a typed ApflowConfig. Timings keep the Python apflow's setting names (seconds).
 */
import { z } from "zod";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { redactUrl } from "../core/redact.js";

const flag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));
const seconds = z.coerce.number().positive();

/** Environment variable -> (schema, default, description). The README's table is generated from this. */
export const SETTINGS = {
  DATABASE_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must start with postgresql://")
      .optional(),
    description: "PostgreSQL connection string. Unset: embedded PGlite in APFLOW_DATA_DIR.",
  },
  APFLOW_DATA_DIR: { schema: z.string().min(1).default("./.apflow"), description: "Embedded database directory." },
  APFLOW_MAX_PARALLEL_TASKS: {
    schema: z.coerce.number().int().min(1).max(10_000).default(10),
    description: "Tasks one node runs at once.",
  },
  APFLOW_NODE_ID: {
    schema: z.string().min(1).max(200).optional(),
    description: "This node's id. Default: kept in the data dir (embedded) or generated (PostgreSQL).",
  },
  APFLOW_NODE_ROLE: {
    schema: z.enum(["auto", "leader", "worker", "observer"]).default("auto"),
    description: "auto/leader: may lead; worker: never leads; observer: serves the API, runs no task.",
  },
  APFLOW_NODE_TAGS: {
    schema: z.string().optional(),
    description: "Comma-separated capability tags that task placements can require.",
  },
  APFLOW_LEASE_DURATION: { schema: seconds.default(30), description: "Task lease length, seconds." },
  APFLOW_LEADER_LEASE: { schema: seconds.default(30), description: "Leader lease length, seconds." },
  APFLOW_HEARTBEAT_INTERVAL: { schema: seconds.default(10), description: "Node heartbeat interval, seconds." },
  APFLOW_NODE_STALE_THRESHOLD: {
    schema: seconds.default(30),
    description: "A node without heartbeat this long is stale, seconds.",
  },
  APFLOW_NODE_DEAD_THRESHOLD: {
    schema: seconds.default(120),
    description: "A node without heartbeat this long is dead, seconds.",
  },
  APFLOW_POLL_INTERVAL: { schema: seconds.default(5), description: "Idle nodes look for work this often, seconds." },
  APFLOW_RETRY_BASE_DELAY: { schema: seconds.default(1), description: "First retry delay before jitter, seconds." },
  APFLOW_RETRY_MAX_DELAY: { schema: seconds.default(60), description: "Longest retry delay, seconds." },
  APFLOW_SHUTDOWN_GRACE: {
    schema: z.coerce.number().min(0).default(10),
    description: "On SIGTERM, running tasks get this long to finish before they are requeued, seconds.",
  },
  APFLOW_LOG_LEVEL: {
    schema: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
    description: "Log level (JSON lines on stderr).",
  },
  PORT: { schema: z.coerce.number().int().min(0).max(65535).default(4000), description: "GraphQL server port." },
  HOST: { schema: z.string().min(1).default("127.0.0.1"), description: "GraphQL server address (0.0.0.0 for all)." },
  APFLOW_GRAPHQL_MAX_DEPTH: {
    schema: z.coerce.number().int().min(1).default(16),
    description: "Deepest GraphQL selection accepted.",
  },
  APFLOW_GRAPHQL_MAX_COST: {
    schema: z.coerce.number().int().min(1).default(2_000_000),
    description: "Highest estimated GraphQL operation cost accepted.",
  },
  APFLOW_GRAPHQL_MAX_BODY_BYTES: {
    schema: z.coerce
      .number()
      .int()
      .min(1024)
      .default(5 * 1024 * 1024),
    description: "Largest GraphQL request body or WebSocket message.",
  },
  APFLOW_STDIO_ALLOW_COMMAND: {
    schema: flag.default(false),
    description: "Let command_executor run host commands (off by default).",
  },
  APFLOW_STDIO_ALLOWED_COMMANDS: {
    schema: z.string().optional(),
    description: "Comma-separated executables command_executor may run (all when unset and allowed).",
  },
  APFLOW_WEBSOCKET_ALLOW_PRIVATE_URLS: {
    schema: flag.default(false),
    description: "Let websocket_executor connect to loopback and private addresses.",
  },
  APFLOW_GRPC_ALLOW_PRIVATE_URLS: {
    schema: flag.default(false),
    description: "Let grpc_executor call loopback and private addresses.",
  },
  APFLOW_SSH_ALLOW_PRIVATE_HOSTS: {
    schema: flag.default(false),
    description: "Let ssh_executor connect to loopback and private hosts.",
  },
  APFLOW_SSH_ALLOW_UNKNOWN_HOST_KEYS: {
    schema: flag.default(false),
    description: "Let ssh_executor accept a host key not pinned by hostKeyFingerprint (off: fail closed).",
  },
  APFLOW_DOCKER_ENABLED: {
    schema: flag.default(false),
    description: "Let docker_executor run containers (it drives the Docker engine; off by default).",
  },
  APFLOW_DOCKER_HOST: {
    schema: z.string().optional(),
    description: "Docker Engine API: a unix socket path or a tcp:// URL (default /var/run/docker.sock).",
  },
  APFLOW_DOCKER_ALLOW_HOST_MOUNTS: {
    schema: flag.default(false),
    description: "Let containers mount any host path (sensitive ones included).",
  },
  APFLOW_DOCKER_ALLOWED_MOUNT_PATHS: {
    schema: z.string().optional(),
    description: "Comma-separated host directories containers may mount.",
  },
  APFLOW_LLM_BASE_URL: {
    schema: z.string().url().optional(),
    description: "OpenAI-compatible endpoint of the LLM executors (default https://api.openai.com/v1).",
  },
  APFLOW_LLM_API_KEY: { schema: z.string().optional(), description: "API key of the LLM endpoint (secret)." },
  APFLOW_LLM_MODEL: { schema: z.string().optional(), description: "Default model of the LLM executors." },
  APFLOW_SMTP_HOST: { schema: z.string().optional(), description: "SMTP server of send_email_executor." },
  APFLOW_SMTP_PORT: { schema: z.coerce.number().int().min(1).max(65535).optional(), description: "SMTP port." },
  APFLOW_SMTP_SECURE: { schema: flag.default(false), description: "SMTP over TLS from the start (port 465)." },
  APFLOW_SMTP_USER: { schema: z.string().optional(), description: "SMTP user." },
  APFLOW_SMTP_PASSWORD: { schema: z.string().optional(), description: "SMTP password (secret)." },
  APFLOW_EMAIL_FROM: { schema: z.string().optional(), description: "Default sender of send_email_executor." },
  APFLOW_EMAIL_API_URL: { schema: z.string().url().optional(), description: "HTTP e-mail API endpoint." },
  APFLOW_EMAIL_API_KEY: { schema: z.string().optional(), description: "HTTP e-mail API key (secret)." },
  APFLOW_EXECUTORS: {
    schema: z.string().optional(),
    description: "Comma-separated executor ids allowed (allow-list; all when neither list is set).",
  },
  APFLOW_EXTENSIONS: {
    schema: z.string().optional(),
    description: "Comma-separated extension groups allowed (core, stdio, http, ssh, llm...).",
  },
  APFLOW_EXECUTOR_DIRS: {
    schema: z.string().optional(),
    description: "Comma-separated directories of custom executor modules loaded at start.",
  },
  APFLOW_REST_ALLOW_PRIVATE_URLS: {
    schema: flag.default(false),
    description:
      "Let rest_executor and the other HTTP-based executors (mcp, llm, crew, generate, scrape, email, apflow_api) reach loopback and private addresses.",
  },
  APFLOW_CONFIG: {
    schema: z.string().min(1).optional(),
    description: "Configuration file (default: apflow.config.json or apflow.config.yaml in the working directory).",
  },
  APFLOW_API_URL: {
    schema: z.string().url().optional(),
    description: "GraphQL API the CLI talks to (unset: the CLI opens the database itself).",
  },
  APFLOW_API_TOKEN: {
    schema: z.string().min(1).optional(),
    description: "Bearer token: the server requires it when set; the CLI sends it (secret).",
  },
  APFLOW_SCHEDULER_ENABLED: {
    schema: flag.default(true),
    description: "Run due schedules on this node when it is the leader.",
  },
  APFLOW_SCHEDULER_INTERVAL: {
    schema: seconds.default(1),
    description: "How often the leader looks for due schedules, seconds.",
  },
  APFLOW_SCHEDULE_MISSED_RUNS: {
    schema: z.enum(["run_once", "skip"]).default("run_once"),
    description: "Runs missed while no node was up: run_once (one catch-up run) or skip (wait for the next).",
  },
  APFLOW_WEBHOOK_SECRET: {
    schema: z.string().min(16, "must be at least 16 characters").optional(),
    description: "HMAC-SHA256 key of the schedule webhook (unset: the webhook refuses every request) (secret).",
  },
  APFLOW_WEBHOOK_TOLERANCE: {
    schema: seconds.default(300),
    description: "Largest age of a webhook timestamp, seconds (older or replayed requests are refused).",
  },
  APFLOW_WEBHOOK_RATE_LIMIT: {
    schema: z.coerce.number().int().min(1).default(30),
    description: "Webhook triggers accepted per schedule per minute.",
  },
} as const;

type Settings = typeof SETTINGS;
const KEEP_EMPTY = new Set(["APFLOW_STDIO_ALLOW_COMMAND", "APFLOW_EXECUTORS", "APFLOW_EXTENSIONS"]);
export type RawConfig = { [K in keyof Settings]: z.output<Settings[K]["schema"]> };

export interface ApflowConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  maxParallelTasks: number;
  nodeId: string | undefined;
  nodeRole: "auto" | "leader" | "worker" | "observer";
  nodeTags: string[];
  leaseMs: number;
  leaderLeaseMs: number;
  heartbeatMs: number;
  staleMs: number;
  deadMs: number;
  pollIntervalMs: number;
  retry: { baseDelayMs: number; maxDelayMs: number };
  shutdownGraceMs: number;
  logLevel: RawConfig["APFLOW_LOG_LEVEL"];
  allowCommand: boolean;
  allowedCommands: string[] | undefined;
  allowPrivateUrls: boolean;
  websocketAllowPrivateUrls: boolean;
  grpcAllowPrivateUrls: boolean;
  sshAllowPrivateHosts: boolean;
  sshAllowUnknownHostKeys: boolean;
  docker: {
    enabled: boolean;
    host: string | undefined;
    allowHostMounts: boolean;
    allowedMountPaths: string[] | undefined;
  };
  llm: { baseUrl: string | undefined; apiKey: string | undefined; model: string | undefined };
  email: {
    smtp: { host: string; port?: number; secure: boolean; user?: string; password?: string } | undefined;
    from: string | undefined;
    api: { url: string; apiKey?: string } | undefined;
  };
  /** Allow-lists (undefined: not set). */
  allowedExecutors: string[] | undefined;
  allowedExtensions: string[] | undefined;
  executorDirs: string[];
  port: number;
  host: string;
  graphql: { maxDepth: number; maxCost: number; maxBodyBytes: number };
  /** Explicit configuration file (APFLOW_CONFIG). */
  configFile: string | undefined;
  /** The GraphQL API the CLI goes through, and the bearer token the server requires. */
  api: { url: string | undefined; token: string | undefined };
  scheduler: { enabled: boolean; intervalMs: number; missedRuns: "run_once" | "skip" };
  webhook: { secret: string | undefined; toleranceMs: number; ratePerMinute: number };
}

/**
 * Reads and validates the configuration. Every invalid setting is reported at once,
 * naming the variable, what it must be and what it was.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApflowConfig {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, setting] of Object.entries(SETTINGS)) {
    // An empty variable means unset, except for allow-lists, where it means "nothing" (fail closed).
    const value = env[name] === "" && !KEEP_EMPTY.has(name) ? undefined : env[name];
    const parsed = (setting.schema as z.ZodType).safeParse(value);
    if (parsed.success) raw[name] = parsed.data;
    else {
      const shown = typeof value === "string" ? redactUrl(value) : value;
      problems.push(`  - ${name}=${JSON.stringify(shown)}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    }
  }
  if (problems.length > 0) {
    throw new ApflowError(ErrorCode.CONFIG_ERROR, `invalid configuration:\n${problems.join("\n")}`);
  }
  const c = raw as RawConfig;
  return {
    databaseUrl: c.DATABASE_URL,
    dataDir: c.APFLOW_DATA_DIR,
    maxParallelTasks: c.APFLOW_MAX_PARALLEL_TASKS,
    nodeId: c.APFLOW_NODE_ID,
    nodeRole: c.APFLOW_NODE_ROLE,
    nodeTags: list(c.APFLOW_NODE_TAGS) ?? [],
    leaseMs: c.APFLOW_LEASE_DURATION * 1000,
    leaderLeaseMs: c.APFLOW_LEADER_LEASE * 1000,
    heartbeatMs: c.APFLOW_HEARTBEAT_INTERVAL * 1000,
    staleMs: c.APFLOW_NODE_STALE_THRESHOLD * 1000,
    deadMs: c.APFLOW_NODE_DEAD_THRESHOLD * 1000,
    pollIntervalMs: c.APFLOW_POLL_INTERVAL * 1000,
    retry: { baseDelayMs: c.APFLOW_RETRY_BASE_DELAY * 1000, maxDelayMs: c.APFLOW_RETRY_MAX_DELAY * 1000 },
    shutdownGraceMs: c.APFLOW_SHUTDOWN_GRACE * 1000,
    logLevel: c.APFLOW_LOG_LEVEL,
    allowCommand: c.APFLOW_STDIO_ALLOW_COMMAND,
    allowedCommands: list(c.APFLOW_STDIO_ALLOWED_COMMANDS),
    websocketAllowPrivateUrls: c.APFLOW_WEBSOCKET_ALLOW_PRIVATE_URLS,
    grpcAllowPrivateUrls: c.APFLOW_GRPC_ALLOW_PRIVATE_URLS,
    sshAllowPrivateHosts: c.APFLOW_SSH_ALLOW_PRIVATE_HOSTS,
    sshAllowUnknownHostKeys: c.APFLOW_SSH_ALLOW_UNKNOWN_HOST_KEYS,
    docker: {
      enabled: c.APFLOW_DOCKER_ENABLED,
      host: c.APFLOW_DOCKER_HOST,
      allowHostMounts: c.APFLOW_DOCKER_ALLOW_HOST_MOUNTS,
      allowedMountPaths: list(c.APFLOW_DOCKER_ALLOWED_MOUNT_PATHS),
    },
    llm: { baseUrl: c.APFLOW_LLM_BASE_URL, apiKey: c.APFLOW_LLM_API_KEY, model: c.APFLOW_LLM_MODEL },
    email: {
      smtp: c.APFLOW_SMTP_HOST
        ? {
            host: c.APFLOW_SMTP_HOST,
            secure: c.APFLOW_SMTP_SECURE,
            ...(c.APFLOW_SMTP_PORT ? { port: c.APFLOW_SMTP_PORT } : {}),
            ...(c.APFLOW_SMTP_USER ? { user: c.APFLOW_SMTP_USER } : {}),
            ...(c.APFLOW_SMTP_PASSWORD ? { password: c.APFLOW_SMTP_PASSWORD } : {}),
          }
        : undefined,
      from: c.APFLOW_EMAIL_FROM,
      api: c.APFLOW_EMAIL_API_URL
        ? { url: c.APFLOW_EMAIL_API_URL, ...(c.APFLOW_EMAIL_API_KEY ? { apiKey: c.APFLOW_EMAIL_API_KEY } : {}) }
        : undefined,
    },
    allowedExecutors: list(c.APFLOW_EXECUTORS),
    allowedExtensions: list(c.APFLOW_EXTENSIONS),
    executorDirs: list(c.APFLOW_EXECUTOR_DIRS) ?? [],
    allowPrivateUrls: c.APFLOW_REST_ALLOW_PRIVATE_URLS,
    port: c.PORT,
    host: c.HOST,
    graphql: {
      maxDepth: c.APFLOW_GRAPHQL_MAX_DEPTH,
      maxCost: c.APFLOW_GRAPHQL_MAX_COST,
      maxBodyBytes: c.APFLOW_GRAPHQL_MAX_BODY_BYTES,
    },
    configFile: c.APFLOW_CONFIG,
    api: { url: c.APFLOW_API_URL, token: c.APFLOW_API_TOKEN },
    scheduler: {
      enabled: c.APFLOW_SCHEDULER_ENABLED,
      intervalMs: c.APFLOW_SCHEDULER_INTERVAL * 1000,
      missedRuns: c.APFLOW_SCHEDULE_MISSED_RUNS,
    },
    webhook: {
      secret: c.APFLOW_WEBHOOK_SECRET,
      toleranceMs: c.APFLOW_WEBHOOK_TOLERANCE * 1000,
      ratePerMinute: c.APFLOW_WEBHOOK_RATE_LIMIT,
    },
  };
}

/** A comma-separated setting as a list (undefined when unset). */
function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}
