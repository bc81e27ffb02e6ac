/**
 * The typed configuration the rest of apflow receives: validated settings turned into the
 * units and shapes the code uses (milliseconds, lists, nested groups).
 */
import type { z } from "zod";
import type { SETTINGS, SettingName } from "./settings.js";

/** Every setting after validation, by name. */
export type RawConfig = { [K in SettingName]: z.output<(typeof SETTINGS)[K]["schema"]> };

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
  /** The configuration file that was read (undefined: none). */
  configFile: string | undefined;
  /** The GraphQL API the CLI goes through, and the bearer token the server requires. */
  api: { url: string | undefined; token: string | undefined };
  scheduler: { enabled: boolean; intervalMs: number; missedRuns: "run_once" | "skip" };
  webhook: { secret: string | undefined; toleranceMs: number; ratePerMinute: number };
}

/** Builds the typed configuration from validated settings and the file they were read from. */
export function toApflowConfig(c: RawConfig, file: string | null): ApflowConfig {
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
    configFile: file ?? undefined,
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
