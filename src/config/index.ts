/**
 * apflow's configuration, layered: defaults < configuration file (apflow.config.json or .yaml)
 * < APFLOW_* environment < command-line flags, each value validated by its setting's schema.
 * This is the only module that reads process.env (and the working directory, to find the file);
 * everything else receives a typed ApflowConfig or passes `env`/`cwd` explicitly.
 */
import type { ApflowConfig } from "./apflow-config.js";
import { locateConfigFile } from "./file-location.js";
import { type ConfigEntry, explicitFile, type ResolvedConfig, type ResolveOptions, resolveLayers } from "./resolve.js";
import { settingName } from "./setting-name.js";

export type { ApflowConfig, RawConfig } from "./apflow-config.js";
export { initConfigFile, setConfigValue, unsetConfigValue } from "./file-write.js";
export type { ConfigEntry, ConfigSource, ResolvedConfig, ResolveOptions } from "./resolve.js";
export { settingName } from "./setting-name.js";
export { SETTINGS } from "./settings.js";

/** Every setting's effective value, where it came from, and the typed configuration. */
export function resolveConfig(options: ResolveOptions = {}): ResolvedConfig {
  return resolveLayers({ ...options, env: options.env ?? process.env, cwd: options.cwd ?? process.cwd() });
}

/**
 * The typed configuration from the file (APFLOW_CONFIG, or apflow.config.* in the working
 * directory) and the environment. Every invalid value is reported at once (CONFIG_ERROR).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): ApflowConfig {
  return resolveConfig({ env }).config;
}

/** The configuration file that applies, and whether it exists (when not, writes create it there). */
export function configFilePath(options: ResolveOptions = {}): { path: string; exists: boolean } {
  const { path, exists } = locateConfigFile({
    file: explicitFile(options),
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
  });
  return { path, exists };
}

/** One setting's entry from a resolved configuration, by any accepted form of its name. */
export function getConfigValue(resolved: ResolvedConfig, key: string): ConfigEntry {
  const name = settingName(key);
  // Entries hold every setting, so a known name is always found.
  return resolved.entries.find((entry) => entry.name === name)!;
}

/**
 * The named variables of this process's environment, for the child processes that
 * executors start (PATH, HOME, locale...). Read here like every other variable.
 */
export function hostEnvironment(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
