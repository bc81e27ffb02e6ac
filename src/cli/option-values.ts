/** Typed reads of parsed options; a bad value is a usage error naming the flag and what it must be. */
import { ApflowError, ErrorCode } from "../core/errors.js";
import type { OptionValues } from "./command.js";

function bad(flag: string, value: string, must: string): ApflowError {
  return new ApflowError(ErrorCode.VALIDATION_ERROR, `--${flag} ${JSON.stringify(value)}: must be ${must}.`);
}

export function stringOption(options: OptionValues, flag: string): string | undefined {
  const value = options[flag];
  return typeof value === "string" ? value : undefined;
}

/** Every value of a repeatable option, each also split at commas ("--status failed,cancelled"), among `allowed`. */
export function listOption<T extends string>(
  options: OptionValues,
  flag: string,
  allowed: readonly T[],
): T[] | undefined {
  const value = options[flag];
  if (value === undefined) return undefined;
  const values = (Array.isArray(value) ? value : [value])
    .filter((v): v is string => typeof v === "string")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  const wrong = values.filter((v) => !allowed.includes(v as T));
  if (wrong.length > 0) throw bad(flag, wrong.join(","), `among ${allowed.join(", ")}`);
  return values as T[];
}

export function integerOption(
  options: OptionValues,
  flag: string,
  range: { min: number; max: number },
): number | undefined {
  const text = stringOption(options, flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw bad(flag, text, `an integer from ${range.min} to ${range.max}`);
  }
  return value;
}

export function secondsOption(options: OptionValues, flag: string): number | undefined {
  const text = stringOption(options, flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw bad(flag, text, "a positive number of seconds");
  return value;
}

/** A value among `allowed`. */
export function choiceOption<T extends string>(
  options: OptionValues,
  flag: string,
  allowed: readonly T[],
): T | undefined {
  const text = stringOption(options, flag);
  if (text === undefined) return undefined;
  if (!allowed.includes(text as T)) throw bad(flag, text, `one of ${allowed.join(", ")}`);
  return text as T;
}
