/**
 * Layering: each setting takes its value from the highest layer that gives one, command-line
 * flag > environment > configuration file > default. Every value given at any layer is
 * validated, even one a higher layer overrides, so a broken file is reported before the day
 * the override goes away; all problems are reported at once, each naming its layer.
 */
import { readFileSync } from "node:fs";
import { ErrorCode, type Problem } from "../core/errors.js";
import { type ApflowConfig, type RawConfig, toApflowConfig } from "./apflow-config.js";
import { configError } from "./errors.js";
import { parseConfigDocument } from "./file-format.js";
import { locateConfigFile } from "./file-location.js";
import { shownValue } from "./mask.js";
import { closestKeys, settingName } from "./setting-name.js";
import { fileKey, SETTING_NAMES, type SettingName, settingByFileKey, settingOf } from "./settings.js";
import { isUnset, parseSetting, toInput } from "./values.js";

/** The settings a configuration file may hold. */
const FILE_SETTINGS = SETTING_NAMES.filter((name) => !settingOf(name).notInFile);

export type ConfigSource = "default" | "file" | "env" | "flag";

export interface ResolveOptions {
  /** Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Where apflow.config.json / .yaml is looked for. Default: process.cwd(). */
  cwd?: string;
  /** Explicit configuration file (--config). */
  file?: string;
  /** The command line's values, keyed by setting name in any accepted form (e.g. { PORT: 5000 }). */
  flags?: Record<string, string | number | boolean | undefined>;
}

export interface ConfigEntry {
  /** Environment name, e.g. APFLOW_MAX_PARALLEL_TASKS. */
  name: string;
  /** File key, e.g. max_parallel_tasks. */
  key: string;
  /** The effective value as text (masked when secret); null when unset. */
  value: string | null;
  source: ConfigSource;
  secret: boolean;
  description: string;
}

export interface ResolvedConfig {
  config: ApflowConfig;
  /** The configuration file that was read (absolute), or null when there is none. */
  file: string | null;
  /** Every setting, in SETTINGS order. */
  entries: ConfigEntry[];
}

/** A value given at one layer, as the environment-style string the schema parses. */
interface Given {
  source: Exclude<ConfigSource, "default">;
  input: string;
  /** How the value was written, for messages (a file's 70000 is shown as a number). */
  written: unknown;
}

/** Resolves every setting from the given environment and working directory (index.ts supplies the defaults). */
export function resolveLayers(options: Required<Pick<ResolveOptions, "env" | "cwd">> & ResolveOptions): ResolvedConfig {
  const problems: Problem[] = [];
  const flags = flagValues(options.flags ?? {});
  const location = locateConfigFile({ file: explicitFile(options), env: options.env, cwd: options.cwd });
  if (!location.exists && location.source !== "default") {
    const by = location.source === "flag" ? "--config" : "APFLOW_CONFIG";
    throw configError(
      `Configuration file ${location.path} (from ${by}) does not exist; create it with \`apflow config init\` or fix ${by}.`,
    );
  }
  const file = location.exists ? location.path : null;
  const fileValues = file ? readFileValues(file, problems) : new Map<SettingName, Given>();

  const raw: Record<string, unknown> = {};
  const entries: ConfigEntry[] = [];
  for (const name of SETTING_NAMES) {
    if (name === "APFLOW_CONFIG") {
      // The file actually read, also when it was found in the working directory.
      raw[name] = file ?? undefined;
      entries.push(entry(name, raw[name], file ? location.source : "default"));
      continue;
    }
    const envInput = options.env[name];
    const layers = [
      flags.get(name),
      envInput === undefined ? undefined : { source: "env" as const, input: envInput, written: envInput },
      fileValues.get(name),
    ].filter((given): given is Given => given !== undefined && !isUnset(name, given.input));
    for (const given of layers) {
      const parsed = parseSetting(name, given.input);
      if (!parsed.ok) problems.push(invalidValue(name, given, file, parsed.message));
    }
    const [winner] = layers;
    const parsed = parseSetting(name, winner?.input);
    // An invalid winner is among the problems, which are thrown below.
    raw[name] = parsed.ok ? parsed.value : undefined;
    entries.push(entry(name, raw[name], winner?.source ?? "default"));
  }
  if (problems.length > 0) {
    const lines = problems.map((problem) => `  - ${problem.message}`).join("\n");
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    throw configError(`Invalid configuration (${count}):\n${lines}`, undefined, { problems });
  }
  return { config: toApflowConfig(raw as RawConfig, file), file, entries };
}

/** The file named on the command line: --config, or an APFLOW_CONFIG flag. */
export function explicitFile(options: ResolveOptions): string | undefined {
  if (options.file !== undefined) return options.file;
  const flagged = flagValues(options.flags ?? {}).get("APFLOW_CONFIG")?.input;
  return flagged || undefined;
}

function flagValues(flags: NonNullable<ResolveOptions["flags"]>): Map<SettingName, Given> {
  const values = new Map<SettingName, Given>();
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    values.set(settingName(key), { source: "flag", input: String(value), written: value });
  }
  return values;
}

/** The file's values by setting; unknown keys and values of the wrong type become problems. */
function readFileValues(file: string, problems: Problem[]): Map<SettingName, Given> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw configError(`Cannot read configuration file ${file}: ${(error as Error).message}`, error);
  }
  const values = new Map<SettingName, Given>();
  for (const [key, value] of Object.entries(parseConfigDocument(file, text).values())) {
    const name = settingByFileKey(key);
    if (!name || settingOf(name).notInFile) {
      problems.push(problem(key, `${file}: ${unknownKey(key, name)}`));
      continue;
    }
    const input = toInput(name, value);
    if ("problem" in input) problems.push(problem(name, `${name} from ${file} (key "${key}") ${input.problem}`));
    else values.set(name, { source: "file", input: input.input, written: value });
  }
  return values;
}

function unknownKey(key: string, name: SettingName | undefined): string {
  if (name)
    return `"${key}" cannot be set in a configuration file (it chooses the file: use --config or APFLOW_CONFIG)`;
  const suggestions = closestKeys(key, FILE_SETTINGS).map((candidate) => `"${fileKey(candidate)}"`);
  return `unknown key "${key}"; did you mean ${suggestions.join(", ")}? Keys are setting names without APFLOW_, lower-cased.`;
}

function invalidValue(name: SettingName, given: Given, file: string | null, message: string): Problem {
  const from = given.source === "flag" ? "the command line" : given.source === "env" ? "the environment" : file;
  // A secret is never shown, not even the part that is wrong.
  const secret = settingOf(name).secret === "value";
  const shown =
    typeof given.written === "string" || Array.isArray(given.written)
      ? JSON.stringify(shownValue(name, given.input))
      : String(given.written);
  return problem(name, `${name}${secret ? "" : `=${shown}`} from ${from}: ${message}`);
}

function problem(path: string, message: string): Problem {
  return { path, code: ErrorCode.CONFIG_ERROR, message };
}

function entry(name: SettingName, value: unknown, source: ConfigSource): ConfigEntry {
  const setting = settingOf(name);
  return {
    name,
    key: fileKey(name),
    value: value === undefined ? null : shownValue(name, String(value)),
    source,
    secret: setting.secret !== undefined,
    description: setting.description,
  };
}
