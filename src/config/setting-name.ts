/**
 * Setting names as people type them: the environment name (`APFLOW_MAX_PARALLEL_TASKS`), the
 * file key (`max_parallel_tasks`), a flag (`max-parallel-tasks`) or camelCase (`maxParallelTasks`)
 * all name one setting. A name that matches none gets the closest known keys as suggestions.
 */

import { editDistance } from "../core/edit-distance.js";
import { configError } from "./errors.js";
import { fileKey, isSettingName, SETTING_NAMES, type SettingName } from "./settings.js";

/** The setting a key names, in any of its accepted forms; CONFIG_ERROR naming the closest keys otherwise. */
export function settingName(key: string): SettingName {
  const name = canonical(key);
  if (isSettingName(name)) return name;
  if (isSettingName(`APFLOW_${name}`)) return `APFLOW_${name}` as SettingName;
  throw configError(
    `Unknown setting "${key}"; did you mean ${closestKeys(key)
      .map((n) => `${fileKey(n)} (${n})`)
      .join(", ")}? \`apflow config list\` shows every setting.`,
  );
}

/** The settings (of `among`) nearest to `key`, best first: the nearest, and up to two about as near. */
export function closestKeys(key: string, among: readonly SettingName[] = SETTING_NAMES): SettingName[] {
  const wanted = comparable(key);
  const ranked = among
    .map((name) => ({ name, distance: editDistance(wanted, comparable(name)) }))
    .sort((a, b) => a.distance - b.distance);
  const best = ranked[0]!.distance;
  return ranked
    .filter((match) => match.distance <= best + 2)
    .slice(0, 3)
    .map((match) => match.name);
}

/** `maxParallelTasks`, `max-parallel-tasks`, `max_parallel_tasks` -> `MAX_PARALLEL_TASKS`. */
function canonical(key: string): string {
  return key
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-.\s]/g, "_")
    .toUpperCase();
}

/** Compared without separators, case or the APFLOW_ prefix, so `APFLOW_PORT` finds `port`. */
function comparable(key: string): string {
  return canonical(key)
    .replace(/^APFLOW_/, "")
    .replace(/_/g, "");
}
