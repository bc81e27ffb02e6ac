/**
 * The shape of a CLI command. Every command is one entry of the table in
 * ./commands/index.ts: its name, summary, arguments, options and handler, so
 * parsing, `apflow help`, `apflow <command> --help` and "did you mean" all come
 * from one place.
 */
import type { ApflowConfig, ResolvedConfig } from "../config/index.js";
import type { ExitCode } from "./exit-codes.js";
import type { Gateway } from "./gateway/gateway.js";
import type { OpenGatewayOptions } from "./gateway/open.js";
import type { Output } from "./output/output.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** May be given several times (values collected in order). */
  multiple?: boolean;
  /** Placeholder shown in help, e.g. "SECONDS". */
  value?: string;
  description: string;
  /** The configuration setting this flag sets (flags are the top configuration layer). */
  setting?: string;
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandInput {
  /** Positional arguments, in order (their count is checked against `args`). */
  args: string[];
  options: OptionValues;
}

export interface CommandContext {
  out: Output;
  stdin: NodeJS.ReadableStream;
  /** The configuration, layered: defaults < file < environment < flags (resolved on first use). */
  resolved(): ResolvedConfig;
  /** The explicit configuration file (--config), if any. */
  configFile: string | undefined;
  /** The configuration as the CLI's own storage connection uses it (quieter logs). */
  config(): ApflowConfig;
  /** The gateway (API or local storage), opened on first use and closed when the command ends. */
  gateway(options?: OpenGatewayOptions): Promise<Gateway>;
}

export interface Command {
  /** One or two words: "run", "tasks list". */
  name: string;
  summary: string;
  /** Positional arguments for usage lines: "ID", "[FILE]" (optional in brackets). */
  args?: string[];
  options?: Record<string, OptionSpec>;
  /** More help: what it does exactly, examples. */
  details?: string;
  run(ctx: CommandContext, input: CommandInput): Promise<ExitCode>;
}

/** Global options, accepted by every command. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "Print one JSON document (JSON lines for streams) on stdout, nothing else." },
  config: {
    type: "string",
    value: "FILE",
    description: "Configuration file (default: ./apflow.config.json or .yaml).",
  },
  "api-url": {
    type: "string",
    value: "URL",
    setting: "APFLOW_API_URL",
    description: "Go through this apflow GraphQL API instead of opening the database.",
  },
  "data-dir": {
    type: "string",
    value: "DIR",
    setting: "APFLOW_DATA_DIR",
    description: "Embedded database directory (default ./.apflow).",
  },
  "database-url": {
    type: "string",
    value: "URL",
    setting: "DATABASE_URL",
    description: "PostgreSQL instead of the embedded database.",
  },
  "no-color": { type: "boolean", description: "No colours (also: NO_COLOR=1, or output that is not a terminal)." },
  help: { type: "boolean", short: "h", description: "Show help." },
};
