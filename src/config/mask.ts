/**
 * How setting values are shown by `apflow config list`, `get` and in error messages: secrets
 * never appear, DATABASE_URL keeps everything but its password, and any other URL loses its
 * password and secret query parameters too (an API URL can carry credentials).
 */
import { redactUrl } from "../core/redact.js";
import { type SettingName, settingOf } from "./settings.js";

export const MASK = "****";

/** The value as it may be shown. */
export function shownValue(name: SettingName, value: string): string {
  const secret = settingOf(name).secret;
  if (secret === "value") return value === "" ? value : MASK;
  if (secret === "url-password") return maskUrlPassword(value);
  return redactUrl(value);
}

/** Whether the value holds something secret, which makes the file that stores it private (mode 0600). */
export function isSecretValue(name: SettingName, value: string): boolean {
  return shownValue(name, value) !== value;
}

function maskUrlPassword(value: string): string {
  const shown = redactUrl(value);
  if (shown !== value || !value.includes("@")) return shown;
  // redactUrl leaves alone what it cannot parse (a space or a "/" in the password); an "@"
  // there may follow a password, so only a URL that parses without one is shown as it is.
  return URL.canParse(value) && new URL(value).password === "" ? value : MASK;
}
