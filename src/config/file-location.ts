/**
 * Which configuration file applies: the one named by --config, else APFLOW_CONFIG, else the
 * one of apflow.config.json / .yaml / .yml in the working directory. Two of those at once is
 * an error rather than a silent choice, since edits to the ignored one would do nothing.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { configError } from "./errors.js";
import { formatOf } from "./file-format.js";

export const DEFAULT_FILE_NAMES = ["apflow.config.json", "apflow.config.yaml", "apflow.config.yml"] as const;

export interface ConfigFileLocation {
  /** Absolute path; where a new file is written when none exists. */
  path: string;
  exists: boolean;
  /** Who chose it: the command line (--config), APFLOW_CONFIG, or the working directory. */
  source: "flag" | "env" | "default";
}

export function locateConfigFile(options: {
  file: string | undefined;
  env: Record<string, string | undefined>;
  cwd: string;
}): ConfigFileLocation {
  const fromEnv = options.env.APFLOW_CONFIG?.trim() || undefined;
  const chosen = options.file ?? fromEnv;
  if (chosen !== undefined) {
    const file = path.resolve(options.cwd, chosen);
    formatOf(file);
    return { path: file, exists: existsSync(file), source: options.file !== undefined ? "flag" : "env" };
  }
  const present = DEFAULT_FILE_NAMES.map((name) => path.join(options.cwd, name)).filter((file) => existsSync(file));
  if (present.length > 1) {
    throw configError(
      `Found ${present.join(" and ")}: apflow reads one configuration file, so keep one of them (or choose one with --config or APFLOW_CONFIG).`,
    );
  }
  const [found] = present;
  return found
    ? { path: found, exists: true, source: "default" }
    : { path: path.join(options.cwd, DEFAULT_FILE_NAMES[0]), exists: false, source: "default" };
}
