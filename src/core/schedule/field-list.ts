/**
 * The list syntax shared by cron fields and the weekly/monthly day lists:
 * comma-separated items, each a value, a range "a-b", or "*", optionally with a
 * step "/n"; values are numbers or (for months and weekdays) names.
 */
import { range } from "./calendar.js";

export interface FieldSpec {
  /** How messages name the field, e.g. `cron field 2 (hour)`. */
  label: string;
  min: number;
  max: number;
  /** Lower-case names and their values, e.g. { jan: 1 }. */
  names?: Readonly<Record<string, number>>;
  /** Shown in messages as the accepted names, e.g. "JAN-DEC". */
  namesHint?: string;
  /** Whether "*" and steps are accepted (cron) or only values and ranges (weekly, monthly). */
  allowStarAndStep: boolean;
}

export interface FieldList {
  /** The selected values, ascending, without duplicates. */
  values: number[];
  problems: string[];
}

const ITEM = /^(?<base>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(?<step>[^/]*))?$/i;

/** Parses one list; every bad item is reported, not only the first. */
export function parseFieldList(text: string, spec: FieldSpec): FieldList {
  const selected = new Set<number>();
  const problems: string[] = [];
  for (const item of text.split(",")) {
    const match = ITEM.exec(item);
    const hasStep = match?.groups?.step !== undefined;
    if (!match || (!spec.allowStarAndStep && (hasStep || match.groups!.base === "*"))) {
      problems.push(`${spec.label} "${item}" is not valid; use ${describeSyntax(spec)}`);
      continue;
    }
    const base = match.groups!.base!;
    let step = 1;
    if (hasStep) {
      const stepText = match.groups!.step!;
      step = /^\d+$/.test(stepText) ? Number(stepText) : 0;
      if (step < 1) {
        problems.push(`${spec.label} "${item}" has step "${stepText}"; a step is a whole number of at least 1`);
        continue;
      }
    }
    let first = spec.min;
    let last = spec.max;
    if (base !== "*") {
      const [fromText, toText] = base.split("-") as [string, string | undefined];
      const from = itemValue(fromText, spec);
      const to = toText === undefined ? (hasStep ? spec.max : from) : itemValue(toText, spec);
      if (from === null || to === null) {
        problems.push(`${spec.label} "${item}" is not valid; use ${describeSyntax(spec)}`);
        continue;
      }
      if ([from, to].some((v) => v < spec.min || v > spec.max)) {
        problems.push(`${spec.label} "${item}" is out of range ${spec.min}-${spec.max}`);
        continue;
      }
      if (from > to) {
        problems.push(`${spec.label} "${item}" is a backwards range; write the smaller value first`);
        continue;
      }
      first = from;
      last = to;
    }
    for (const value of range(first, last, step)) selected.add(value);
  }
  return { values: [...selected].sort((a, b) => a - b), problems };
}

function itemValue(text: string, spec: FieldSpec): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  return spec.names?.[text.toLowerCase()] ?? null;
}

/** What an item may be, for messages: "a number 1-12 or a name JAN-DEC, a range like 1-5, ...". */
function describeSyntax(spec: FieldSpec): string {
  const value = `a number ${spec.min}-${spec.max}${spec.namesHint ? ` or a name ${spec.namesHint}` : ""}`;
  const forms = spec.allowStarAndStep ? ", a range like 1-5, * or a step like */5" : " or a range like 1-5";
  return `${value}${forms}, in a comma-separated list`;
}
