/** Helpers shared by the schedule tests. */
import { nextRun, parseSchedule, type Schedule, type ScheduleInput } from "../../../src/core/schedule/index.js";

/** A valid schedule; `input` may leave out everything but type and expression. */
export function schedule(type: string, expression: string, input: Partial<ScheduleInput> = {}): Schedule {
  return parseSchedule({ type, expression, ...input });
}

/**
 * The next `count` runs after `after` as ISO strings, each computed from the previous
 * scheduled time with the run count so far, as the scheduler does.
 */
export function runs(s: Schedule, after: string, count: number, runCount = 0): string[] {
  const found: string[] = [];
  let previous = new Date(after);
  for (let i = 0; i < count; i++) {
    const next = nextRun(s, previous, runCount + i);
    if (next === null) break;
    found.push(next.toISOString());
    previous = next;
  }
  return found;
}

/** The problems of the validation error `fn` throws, as "path: message". */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    const problems = (error as { problems?: { path: string; message: string }[] }).problems;
    if (problems) return problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error("expected a validation error, nothing was thrown");
}
