/**
 * Reads the task file of `apflow run`: JSON or YAML, a task array or `{ tasks: [...] }`,
 * in apflow's format or the Python apflow's (snake_case fields, the executor in
 * `schemas.method`, and the record fields of an exported task, which describe a past
 * run and are dropped). Every problem is reported at once, each with its path, and
 * the result is the camelCase array that both gateways send unchanged.
 */
import { readFile } from "node:fs/promises";
import { parse, YAMLParseError } from "yaml";
import { normalizeTaskSpecs } from "../core/apflow-format.js";
import { ApflowError, ErrorCode, errorMessage, isApflowError, type Problem, validationError } from "../core/errors.js";
import { isObject, planTree } from "../core/tree-plan.js";

/** The fields a task of a create request may have (GraphQL's TaskInput). */
const TASK_FIELDS = [
  "id",
  "name",
  "executor",
  "inputs",
  "params",
  "priority",
  "parentId",
  "dependencies",
  "maxAttempts",
  "timeoutMs",
  "idempotencyKey",
  "placement",
];

/** Fields of a Python apflow task record that say what happened to it, not what to run. */
const RECORD_FIELDS = new Set([
  "status",
  "progress",
  "result",
  "error",
  "created_at",
  "started_at",
  "updated_at",
  "completed_at",
  "origin_type",
  "original_task_id",
  "has_references",
  "has_children",
  "task_tree_id",
  "userId",
  "next_run_at",
  "last_run_at",
  "run_count",
]);

/** Python schedule fields: `apflow run` runs a tree now; schedules are set with `apflow schedule add`. */
const SCHEDULE_FIELDS = new Set([
  "schedule_type",
  "schedule_expression",
  "schedule_enabled",
  "schedule_start_at",
  "schedule_end_at",
  "max_runs",
]);

export interface TaskFile {
  tasks: Record<string, unknown>[];
  /** Things the reader dropped that the user may not expect to be dropped. */
  warnings: string[];
}

export async function readTaskFile(file: string): Promise<TaskFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ApflowError(ErrorCode.NOT_FOUND, `The task file ${file} does not exist.`);
    }
    throw new ApflowError(ErrorCode.VALIDATION_ERROR, `Cannot read the task file ${file}: ${errorMessage(error)}`);
  }
  return tasksOf(parseText(file, text), file);
}

/** JSON is YAML too, so one parser reads both and reports the line and column of a syntax error. */
function parseText(file: string, text: string): unknown {
  try {
    return parse(text, { prettyErrors: true });
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos ? `:${error.linePos[0].line}:${error.linePos[0].col}` : "";
    const why = errorMessage(error)
      .split("\n")[0]!
      .replace(/ at line \d+, column \d+:?$/, "");
    const format = /\.json$/i.test(file) ? "JSON" : /\.ya?ml$/i.test(file) ? "YAML" : "JSON or YAML";
    throw new ApflowError(ErrorCode.VALIDATION_ERROR, `${file}${where}: not valid ${format}: ${why}.`);
  }
}

function tasksOf(document: unknown, file: string): TaskFile {
  const list = Array.isArray(document) ? document : isObject(document) ? document.tasks : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ApflowError(
      ErrorCode.VALIDATION_ERROR,
      `${file} holds no tasks: it must be a non-empty array of tasks, or an object with a "tasks" array ` +
        '(each task like { "name": "a", "executor": "system_info_executor", "inputs": {} }).',
    );
  }
  const problems: Problem[] = [];
  const warnings = new Set<string>();
  const normalized = normalizeTaskSpecs(list) as unknown[];
  const tasks = normalized.map((raw, i) => {
    const at = `tasks[${i}]`;
    if (!isObject(raw)) {
      problems.push({ path: at, code: ErrorCode.VALIDATION_ERROR, message: "must be an object" });
      return {};
    }
    const task: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (RECORD_FIELDS.has(key)) continue;
      if (SCHEDULE_FIELDS.has(key)) {
        warnings.add(
          `${key} is ignored: \`apflow run\` runs the tree now (set a schedule with \`apflow schedule add\`)`,
        );
        continue;
      }
      if (!TASK_FIELDS.includes(key)) {
        problems.push({
          path: `${at}.${key}`,
          code: ErrorCode.VALIDATION_ERROR,
          message: `unknown field; a task has ${TASK_FIELDS.join(", ")} (or the Python apflow's snake_case names)`,
        });
        continue;
      }
      // The Python apflow writes null for "not set".
      if (value === null && key !== "parentId") continue;
      task[key] = key === "dependencies" && Array.isArray(value) ? value.map(dependency) : value;
    }
    return task;
  });
  if (problems.length > 0) {
    problems.push(...structureProblems(tasks));
    throw validationError(problems, `task file ${file}`, "nothing was created");
  }
  return { tasks, warnings: [...warnings] };
}

/**
 * The tree's own problems (names, parents, dependencies, cycles), so that a file with
 * a bad field still gets every problem listed in one round. Executors and inputs are
 * checked by whoever creates the tree, which knows which executors exist.
 */
function structureProblems(tasks: Record<string, unknown>[]): Problem[] {
  let next = 0;
  try {
    planTree(tasks, {
      executorAvailability: () => "available",
      generateId: () => `(generated ${++next})`,
      existingIds: new Map(),
    });
    return [];
  } catch (error) {
    return isApflowError(error) ? error.problems : [];
  }
}

/** A dependency given as a bare id becomes `{ id }` (the API takes objects only). */
function dependency(value: unknown): unknown {
  return typeof value === "string" ? { id: value } : value;
}
