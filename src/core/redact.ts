/**
 * Masks secrets in JSON before it is stored or logged. Task inputs carry credentials
 * (REST auth, command env, headers) and events, logs and error details are readable
 * by more people than the task's owner, so the engine and the executors pass such
 * JSON through `redactSecrets` first. The task's own stored inputs are not touched.
 */
import type { JsonObject, JsonValue } from "./types.js";

export const REDACTED = "[REDACTED]";

/**
 * Key names (lower-cased, without `-`, `_`, `.` and spaces) whose values are secret when
 * they appear anywhere in the name: `db_password`, `X-Api-Key`, `clientSecret`, `Set-Cookie`.
 */
const SECRET_PARTS = [
  "password",
  "passwd",
  "passphrase",
  "secret",
  "apikey",
  "authorization",
  "cookie",
  "privatekey",
  "accesskey",
  "credential",
  "sessionid",
  "csrf",
  "xsrf",
];

/**
 * Key names that are secret only as a suffix: `access_token`, `X-Auth-Token` and
 * `token` are, but `max_tokens` and `token_count` (LLM usage numbers) are not.
 */
const SECRET_SUFFIXES = ["token", "pwd", "signature"];

/** Members of an `auth` object that hold the secret itself (`{ type: "apiKey", value }`). */
const AUTH_SECRET_MEMBERS = new Set(["token", "password", "value", "key", "secret", "credentials"]);
/** Members of an `auth` object that only describe it, kept so errors stay readable. */
const AUTH_PUBLIC_MEMBERS = new Set(["type", "username", "user", "name", "header", "in", "location", "scheme"]);

function normalize(key: string): string {
  return key.toLowerCase().replace(/[-_.\s]/g, "");
}

/** Whether values stored under `key` should be masked. */
export function isSecretKey(key: string): boolean {
  const name = normalize(key);
  if (SECRET_PARTS.some((part) => name.includes(part))) return true;
  return SECRET_SUFFIXES.some((suffix) => name.endsWith(suffix)) && name !== "pwd";
}

/** Returns a copy of `value` with every secret masked as "[REDACTED]"; `value` is not changed. */
export function redactSecrets(value: JsonValue): JsonValue {
  if (typeof value === "string") return redactUrl(value);
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== "object") return value;
  const out: JsonObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (isSecretKey(key)) out[key] = member === null ? null : REDACTED;
    else if (normalize(key) === "auth") out[key] = redactAuth(member);
    else out[key] = redactSecrets(member);
  }
  return out;
}

/** An `auth` member: a string is a credential; an object keeps only its descriptive members. */
function redactAuth(auth: JsonValue): JsonValue {
  if (auth === null || typeof auth === "boolean" || typeof auth === "number") return auth;
  if (typeof auth === "string" || Array.isArray(auth)) return REDACTED;
  const out: JsonObject = {};
  for (const [key, member] of Object.entries(auth)) {
    const name = normalize(key);
    if (AUTH_PUBLIC_MEMBERS.has(name) && typeof member !== "object") out[key] = member;
    else if (AUTH_SECRET_MEMBERS.has(name) || isSecretKey(key)) out[key] = member === null ? null : REDACTED;
    else out[key] = redactSecrets(member);
  }
  return out;
}

/** Inside URLs the mask has no brackets, which would be percent-encoded. */
const URL_MASK = "REDACTED";
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i;
const URL_WITH_QUERY = /^https?:\/\/[^\s]*\?/i;

/**
 * Masks the password of a URL (`postgres://app:pw@db/x`) and secret query parameters
 * (`?api_key=...`), which put credentials in plain strings where no key name warns.
 */
export function redactUrl(text: string): string {
  if (!URL_WITH_CREDENTIALS.test(text) && !URL_WITH_QUERY.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.password) {
    url.password = URL_MASK;
    changed = true;
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (isSecretKey(name)) {
      url.searchParams.set(name, URL_MASK);
      changed = true;
    }
  }
  return changed ? url.toString() : text;
}
