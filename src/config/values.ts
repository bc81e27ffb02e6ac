/**
 * One validation for every layer: a file or flag value (string, number, boolean, or an array
 * for a comma-separated setting) becomes the string an environment variable would hold, and
 * the setting's schema parses it.
 */
import { type SettingName, settingOf } from "./settings.js";

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** The value as an environment-style string, or what is wrong with its type. */
export function toInput(name: SettingName, value: unknown): { input: string } | { problem: string } {
  if (typeof value === "string") return { input: value };
  if (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
    return { input: String(value) };
  }
  const list = settingOf(name).list === true;
  if (list && Array.isArray(value)) {
    const items = value.filter((item) => typeof item === "string" || typeof item === "number").map(String);
    if (items.length === value.length && !items.some((item) => item.includes(","))) return { input: items.join(",") };
    return { problem: "must be a list of strings without commas" };
  }
  return {
    problem: `must be a string, a number or a boolean${list ? ", or a list of strings" : ""}, not ${kind(value)}`,
  };
}

/** An empty value means "not set here", except for settings where empty is itself a value. */
export function isUnset(name: SettingName, input: string | undefined): input is undefined | "" {
  return input === undefined || (input === "" && settingOf(name).keepEmpty !== true);
}

/** Parses a value (undefined: the default) with the setting's schema. */
export function parseSetting(name: SettingName, input: string | undefined): Parsed {
  const parsed = settingOf(name).schema.safeParse(isUnset(name, input) ? undefined : input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, message: parsed.error.issues.map((issue) => issue.message).join("; ") };
}

function kind(value: unknown): string {
  if (value === null) return "null (write the value, or leave the key out)";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "a mapping" : `a ${typeof value}`;
}
