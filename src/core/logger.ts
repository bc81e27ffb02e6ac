/**
 * A small structured logger (JSON lines on stderr), so the core needs no logging
 * library. Fields named like secrets are never printed.
 */
import type { Logger } from "./executor.js";
import { isSecretKey } from "./redact.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(
  level: LogLevel = "info",
  bound: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const log = (at: Exclude<LogLevel, "silent">) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] < ORDER[level]) return;
    const entry = { time: new Date().toISOString(), level: at, msg: message, ...bound, ...fields };
    write(JSON.stringify(entry, (key, value) => (key && isSecretKey(key) ? "[REDACTED]" : serialise(value))));
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (fields) => createLogger(level, { ...bound, ...fields }, write),
  };
}

export const silentLogger: Logger = createLogger("silent");

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}
