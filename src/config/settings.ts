/**
 * Every setting apflow reads, its default and its validation, in one place. The same schema
 * validates a value whatever layer it comes from (default, file, environment, flag), so values
 * are given to it as the strings an environment variable would hold.
 */
import { z } from "zod";

export interface Setting {
  schema: z.ZodType;
  description: string;
  /**
   * "value": the whole value is secret and never shown; "url-password": a URL whose password is
   * (DATABASE_URL), shown with the password masked so the host and database stay readable.
   */
  secret?: "value" | "url-password";
  /** Comma-separated: a configuration file may give it as an array of strings. */
  list?: true;
  /** An empty value is a value (an allow-list set to nothing blocks everything), not "unset". */
  keepEmpty?: true;
  /** Chooses the file itself (APFLOW_CONFIG), so a file cannot set it. */
  notInFile?: true;
}

const flag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));
const seconds = z.coerce.number().positive();

/**
 * Every setting by its environment variable name: schema (with the default), description and
 * markers. The README's table lists each of them (a test checks it).
 */
export const SETTINGS = {
  DATABASE_URL: {
    secret: "url-password",
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
    list: true,
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
    keepEmpty: true,
    schema: flag.default(false),
    description: "Let command_executor run host commands (off by default).",
  },
  APFLOW_STDIO_ALLOWED_COMMANDS: {
    list: true,
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
    list: true,
    schema: z.string().optional(),
    description: "Comma-separated host directories containers may mount.",
  },
  APFLOW_LLM_BASE_URL: {
    schema: z.string().url().optional(),
    description: "OpenAI-compatible endpoint of the LLM executors (default https://api.openai.com/v1).",
  },
  APFLOW_LLM_API_KEY: {
    secret: "value",
    schema: z.string().optional(),
    description: "API key of the LLM endpoint (secret).",
  },
  APFLOW_LLM_MODEL: { schema: z.string().optional(), description: "Default model of the LLM executors." },
  APFLOW_SMTP_HOST: { schema: z.string().optional(), description: "SMTP server of send_email_executor." },
  APFLOW_SMTP_PORT: { schema: z.coerce.number().int().min(1).max(65535).optional(), description: "SMTP port." },
  APFLOW_SMTP_SECURE: { schema: flag.default(false), description: "SMTP over TLS from the start (port 465)." },
  APFLOW_SMTP_USER: { schema: z.string().optional(), description: "SMTP user." },
  APFLOW_SMTP_PASSWORD: { secret: "value", schema: z.string().optional(), description: "SMTP password (secret)." },
  APFLOW_EMAIL_FROM: { schema: z.string().optional(), description: "Default sender of send_email_executor." },
  APFLOW_EMAIL_API_URL: { schema: z.string().url().optional(), description: "HTTP e-mail API endpoint." },
  APFLOW_EMAIL_API_KEY: {
    secret: "value",
    schema: z.string().optional(),
    description: "HTTP e-mail API key (secret).",
  },
  APFLOW_EXECUTORS: {
    keepEmpty: true,
    list: true,
    schema: z.string().optional(),
    description: "Comma-separated executor ids allowed (allow-list; all when neither list is set).",
  },
  APFLOW_EXTENSIONS: {
    keepEmpty: true,
    list: true,
    schema: z.string().optional(),
    description: "Comma-separated extension groups allowed (core, stdio, http, ssh, llm...).",
  },
  APFLOW_EXECUTOR_DIRS: {
    list: true,
    schema: z.string().optional(),
    description: "Comma-separated directories of custom executor modules loaded at start.",
  },
  APFLOW_REST_ALLOW_PRIVATE_URLS: {
    schema: flag.default(false),
    description:
      "Let rest_executor and the other HTTP-based executors (mcp, llm, crew, generate, scrape, email, apflow_api) reach loopback and private addresses.",
  },
  APFLOW_CONFIG: {
    notInFile: true,
    schema: z.string().min(1).optional(),
    description: "Configuration file (default: apflow.config.json or apflow.config.yaml in the working directory).",
  },
  APFLOW_API_URL: {
    schema: z.string().url().optional(),
    description: "GraphQL API the CLI talks to (unset: the CLI opens the database itself).",
  },
  APFLOW_API_TOKEN: {
    secret: "value",
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
    secret: "value",
    schema: z.string().min(16, "must be at least 16 characters").optional(),
    description: "HMAC-SHA256 key of the schedule webhook (unset: the webhook refuses every request) (secret).",
  },
  APFLOW_WEBHOOK_TOLERANCE: {
    schema: seconds.default(300),
    description: "Largest age of a webhook timestamp, seconds (older or replayed requests are refused).",
  },
  APFLOW_WEBHOOK_RATE_LIMIT: {
    schema: z.coerce.number().int().min(1).default(30),
    description: "Webhook triggers accepted per schedule per minute, all nodes together.",
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** A setting's metadata, without the exact schema types (for code that handles every setting alike). */
export function settingOf(name: SettingName): Setting {
  return SETTINGS[name];
}

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}

/** The setting's key in a configuration file: `APFLOW_MAX_PARALLEL_TASKS` -> `max_parallel_tasks`, `PORT` -> `port`. */
export function fileKey(name: SettingName): string {
  return name.replace(/^APFLOW_/, "").toLowerCase();
}

const BY_FILE_KEY = new Map(SETTING_NAMES.map((name) => [fileKey(name), name]));

/** The setting a configuration file key names (exact key only; files use one spelling). */
export function settingByFileKey(key: string): SettingName | undefined {
  return BY_FILE_KEY.get(key);
}
