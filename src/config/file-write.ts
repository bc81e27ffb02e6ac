/**
 * Changes to a configuration file. Every write goes to a temporary file in the same directory,
 * is flushed, then renamed over the file, so a crash leaves the old file or the new one, never
 * half of one. A file that holds a secret is private to its owner (mode 0600); a new file is
 * created private, and an existing one keeps its mode until it receives a secret.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readFile, realpath, rename, rm, stat } from "node:fs/promises";
import { configError } from "./errors.js";
import { type ConfigDocument, formatOf, newConfigDocument, parseConfigDocument } from "./file-format.js";
import { isSecretValue, shownValue } from "./mask.js";
import { settingName } from "./setting-name.js";
import { fileKey, type SettingName, settingByFileKey, settingOf } from "./settings.js";
import { parseSetting, toInput } from "./values.js";

const PRIVATE = 0o600;

/** Settings a starter file holds, at their defaults: the ones people change first. */
const STARTER: SettingName[] = ["APFLOW_DATA_DIR", "PORT", "HOST", "APFLOW_MAX_PARALLEL_TASKS", "APFLOW_LOG_LEVEL"];
const STARTER_HEADER = ` apflow configuration. Layers: defaults < this file < APFLOW_* environment < command-line flags.
 Keys are the settings' names without APFLOW_, lower-cased; \`apflow config list\` shows every one.
 A file that holds a secret (database_url with a password, api_token...) is kept at mode 600.`;

/**
 * Sets one key, after validating the value with the setting's schema (nothing is written when
 * it is invalid). Numbers and flags are stored typed; the file's format and other keys are kept.
 */
export async function setConfigValue(path: string, key: string, value: string): Promise<void> {
  const name = fileSetting(key);
  if (value === "" && settingOf(name).keepEmpty !== true) {
    throw configError(
      `An empty value leaves ${fileKey(name)} unset; use \`apflow config unset ${fileKey(name)}\` to remove it.`,
    );
  }
  const parsed = parseSetting(name, value);
  if (!parsed.ok) {
    const shown = settingOf(name).secret === "value" ? "" : ` ${JSON.stringify(shownValue(name, value))}`;
    throw configError(`Invalid value${shown} for ${fileKey(name)} (${name}): ${parsed.message}. Nothing was written.`);
  }
  const stored = typeof parsed.value === "number" || typeof parsed.value === "boolean" ? parsed.value : value;
  await editConfigFile(path, (doc) => {
    doc.set(fileKey(name), stored);
    return true;
  });
}

/** Removes one key; false (and nothing written) when the file or the key does not exist. */
export async function unsetConfigValue(path: string, key: string): Promise<boolean> {
  const name = fileSetting(key);
  if (!existsSync(path)) return false;
  return editConfigFile(path, (doc) => doc.delete(fileKey(name)));
}

/** Writes a starter file (JSON or YAML by extension); an existing file is replaced only with `force`. */
export async function initConfigFile(path: string, options: { force?: boolean } = {}): Promise<void> {
  const format = formatOf(path);
  if (existsSync(path) && options.force !== true) {
    throw configError(`${path} already exists; pass --force to replace it with a starter file.`);
  }
  const values: Record<string, string | number | boolean> = {};
  const comments: Record<string, string> = {};
  for (const name of STARTER) {
    const parsed = parseSetting(name, undefined);
    if (parsed.ok) values[fileKey(name)] = parsed.value as string | number | boolean;
    comments[fileKey(name)] = settingOf(name).description;
  }
  await writeAtomically(
    await realTarget(path),
    newConfigDocument(format, values, { header: STARTER_HEADER, keys: comments }),
    PRIVATE,
  );
}

/** The setting a key names, refusing the one a file cannot hold. */
function fileSetting(key: string): SettingName {
  const name = settingName(key);
  if (settingOf(name).notInFile) {
    throw configError(
      `${name} chooses the configuration file, so a file cannot set it; use --config or APFLOW_CONFIG.`,
    );
  }
  return name;
}

/** Reads, edits and rewrites the file (creating it when missing); returns whether `edit` changed it. */
async function editConfigFile(path: string, edit: (doc: ConfigDocument) => boolean): Promise<boolean> {
  const target = await realTarget(path);
  const current = await readExisting(target);
  const doc = parseConfigDocument(target, current?.text ?? "");
  if (!edit(doc)) return false;
  const mode = current === undefined || holdsSecret(doc) ? PRIVATE : current.mode;
  await writeAtomically(target, doc.toString(), mode);
  return true;
}

/** A symlinked file is edited where it lives, not replaced by a plain file. */
async function realTarget(path: string): Promise<string> {
  return existsSync(path) ? realpath(path) : path;
}

async function readExisting(path: string): Promise<{ text: string; mode: number } | undefined> {
  try {
    const [text, stats] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { text, mode: stats.mode & 0o777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw configError(`Cannot read configuration file ${path}: ${(error as Error).message}`, error);
  }
}

function holdsSecret(doc: ConfigDocument): boolean {
  return Object.entries(doc.values()).some(([key, value]) => {
    const name = settingByFileKey(key);
    if (!name) return false;
    const input = toInput(name, value);
    return "input" in input && isSecretValue(name, input.input);
  });
}

/** Temp file (created private, so a secret is never readable by others), flush, then rename over `path`. */
async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const handle = await open(temp, "wx", PRIVATE);
    try {
      await handle.writeFile(content, "utf8");
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw configError(`Cannot write configuration file ${path}: ${(error as Error).message}`, error);
  }
}
