/**
 * A root task's schedule: what it is, and `parseSchedule`, the one place that
 * validates one (GraphQL, the CLI and task files all go through it).
 */
import { ErrorCode, type Problem, validationError } from "../errors.js";
import { EXPRESSION_EXAMPLES, parseExpression } from "./expression.js";
import { parseDateTime, timeZoneName } from "./zoned-time.js";

export const SCHEDULE_TYPES = ["once", "interval", "cron", "daily", "weekly", "monthly"] as const;
export type ScheduleType = (typeof SCHEDULE_TYPES)[number];

export interface Schedule {
  type: ScheduleType;
  /** Trimmed; its format depends on `type` (see expression.ts). */
  expression: string;
  /** IANA zone the wall-clock times are read in; "UTC" by default. Intervals ignore it. */
  timezone: string;
  enabled: boolean;
  /** No run before it; for an interval, also the anchor runs are counted from. */
  startAt: Date | null;
  /** No run after it. */
  endAt: Date | null;
  /** No run once this many have been made; null for no limit. */
  maxRuns: number | null;
}

export interface ScheduleInput {
  type: string;
  expression: string;
  timezone?: string | null;
  enabled?: boolean | null;
  /** A Date, or an ISO date-time (without an offset: in `timezone`). */
  startAt?: Date | string | null;
  endAt?: Date | string | null;
  maxRuns?: number | null;
}

/**
 * Validates a schedule; throws validationError(problems, "schedule", "nothing was
 * written") listing EVERY problem with its path (type, expression, timezone, startAt,
 * endAt, maxRuns). The type is lower-cased, the expression trimmed and the zone's
 * case corrected. An interval without startAt keeps startAt null (the runtime
 * sets the anchor).
 */
export function parseSchedule(input: ScheduleInput): Schedule {
  const problems: Problem[] = [];
  const report = (path: string, message: string) => problems.push({ path, code: ErrorCode.VALIDATION_ERROR, message });

  const typeText = String(input.type ?? "")
    .trim()
    .toLowerCase();
  const type = SCHEDULE_TYPES.find((t) => t === typeText);
  if (!type) report("type", `schedule type "${input.type}" is unknown; use one of ${SCHEDULE_TYPES.join(", ")}`);

  let timezone: string | null = "UTC";
  if (input.timezone !== undefined && input.timezone !== null) {
    timezone = timeZoneName(input.timezone.trim());
    if (timezone === null) {
      report(
        "timezone",
        `time zone "${input.timezone}" is not an IANA zone name; use e.g. "Europe/Paris", "America/New_York" or "UTC" (the default)`,
      );
    }
  }
  // Times without an offset are read in the zone; with a bad zone they are read in UTC
  // so that their own problems are still reported.
  const zone = timezone ?? "UTC";

  const expression = String(input.expression ?? "").trim();
  let at: number | null = null;
  if (expression === "") {
    report(
      "expression",
      `the expression is empty${type ? `; a ${type} schedule takes e.g. ${EXPRESSION_EXAMPLES[type]}` : ""}`,
    );
  } else if (type) {
    const { rule, problems: expressionProblems } = parseExpression(type, expression, zone);
    for (const message of expressionProblems) report("expression", message);
    if (rule?.kind === "once") at = rule.at;
  }

  if (input.enabled !== undefined && input.enabled !== null && typeof input.enabled !== "boolean") {
    report("enabled", `enabled must be true or false, got ${JSON.stringify(input.enabled)}`);
  }
  const startAt = readInstant("startAt", input.startAt, zone, report);
  const endAt = readInstant("endAt", input.endAt, zone, report);
  if (startAt !== null && endAt !== null && endAt <= startAt) {
    report("endAt", `endAt (${iso(endAt)}) must be after startAt (${iso(startAt)})`);
  }
  if (at !== null && timezone !== null) {
    if (startAt !== null && at < startAt) {
      report("expression", `the run time ${iso(at)} is before startAt (${iso(startAt)}), so it would never run`);
    }
    if (endAt !== null && at > endAt) {
      report("expression", `the run time ${iso(at)} is after endAt (${iso(endAt)}), so it would never run`);
    }
  }

  const maxRuns = input.maxRuns ?? null;
  if (maxRuns !== null && !(Number.isSafeInteger(maxRuns) && maxRuns >= 1)) {
    report("maxRuns", `maxRuns must be a whole number of at least 1 (or null for no limit), got ${maxRuns}`);
  }

  if (problems.length > 0) throw validationError(problems, "schedule", "nothing was written");
  return {
    type: type!,
    expression,
    timezone: timezone!,
    enabled: input.enabled ?? true,
    startAt: startAt === null ? null : new Date(startAt),
    endAt: endAt === null ? null : new Date(endAt),
    maxRuns,
  };
}

function readInstant(
  path: "startAt" | "endAt",
  value: Date | string | null | undefined,
  zone: string,
  report: (path: string, message: string) => void,
): number | null {
  if (value === undefined || value === null) return null;
  const instant = value instanceof Date ? value.getTime() : parseDateTime(String(value), zone);
  if (instant === null || Number.isNaN(instant)) {
    const shown = value instanceof Date ? "(an invalid Date)" : JSON.stringify(value);
    report(path, `${path} ${shown} is not a valid ISO date-time; use e.g. "2026-01-15T09:00:00Z"`);
    return null;
  }
  return instant;
}

function iso(instant: number): string {
  return new Date(instant).toISOString();
}
