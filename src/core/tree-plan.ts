/**
 * Turns a create request (apflow's flat task array) into a validated TreePlan.
 * Every problem is collected and reported at once, so a client fixes its request in
 * one round; nothing is written unless the whole tree is valid.
 */
import { ErrorCode, type Problem, validationError } from "./errors.js";
import type { NewTask, TreePlan } from "./ports.js";
import type { JsonObject, Placement } from "./types.js";

/** One task of a create request. `parentId` and dependency ids may name an id or a name of the same request. */
export interface TaskSpec {
  id?: string;
  name: string;
  executor: string;
  inputs?: JsonObject;
  params?: JsonObject;
  priority?: number;
  parentId?: string | null;
  dependencies?: Array<{ id: string; required?: boolean } | string>;
  maxAttempts?: number;
  timeoutMs?: number | null;
  idempotencyKey?: string | null;
  placement?: Placement | null;
  userId?: string | null;
}

export type ExecutorAvailability = "available" | "unknown" | "forbidden";

export interface PlanContext {
  executorAvailability(id: string): ExecutorAvailability;
  /** Problems of a task's inputs against its executor's schema (see InputSchemaChecker). */
  inputProblems?(executor: string, inputs: unknown, hasDependencies: boolean): { path: string; message: string }[];
  generateId(): string;
  /** Ids (from the request) that already exist in storage, with their tree id. */
  existingIds: ReadonlyMap<string, string>;
  /** Idempotency keys (from the request) already in use. */
  usedIdempotencyKeys?: ReadonlySet<string>;
}

export const DEFAULT_PRIORITY = 2;
export const MAX_NAME_LENGTH = 255;
export const MAX_ATTEMPTS_LIMIT = 100;

/** Every id a request mentions (explicit ids and references), for one storage look-up. */
export function referencedIds(specs: readonly TaskSpec[]): string[] {
  const ids = new Set<string>();
  for (const spec of specs) {
    if (!isObject(spec)) continue;
    if (typeof spec.id === "string") ids.add(spec.id);
    if (typeof spec.parentId === "string") ids.add(spec.parentId);
    if (Array.isArray(spec.dependencies)) {
      for (const dep of spec.dependencies) {
        const id = typeof dep === "string" ? dep : isObject(dep) ? dep.id : undefined;
        if (typeof id === "string") ids.add(id);
      }
    }
  }
  return [...ids];
}

export function idempotencyKeysOf(specs: readonly TaskSpec[]): string[] {
  return specs.flatMap((s) => (isObject(s) && typeof s.idempotencyKey === "string" ? [s.idempotencyKey] : []));
}

export function planTree(specs: unknown, context: PlanContext): TreePlan {
  const problems: Problem[] = [];
  const add = (path: string, code: ErrorCode, message: string) => problems.push({ path, code, message });

  if (!Array.isArray(specs) || specs.length === 0) {
    add("tasks", ErrorCode.VALIDATION_ERROR, "must be a non-empty array of tasks");
    throw validationError(problems, "task tree");
  }

  // Pass 1: each task on its own, and the id/name tables references resolve against.
  const ids: string[] = [];
  const byId = new Map<string, number>();
  const byName = new Map<string, number>();
  specs.forEach((raw, i) => {
    const at = `tasks[${i}]`;
    if (!isObject(raw)) {
      add(at, ErrorCode.VALIDATION_ERROR, "must be an object");
      ids.push(context.generateId());
      return;
    }
    const spec = raw as Partial<TaskSpec>;
    checkFields(spec, at, add, context);
    if (
      context.inputProblems &&
      typeof spec.executor === "string" &&
      context.executorAvailability(spec.executor) !== "unknown"
    ) {
      const hasDependencies = Array.isArray(spec.dependencies) && spec.dependencies.length > 0;
      for (const problem of context.inputProblems(spec.executor, spec.inputs ?? {}, hasDependencies)) {
        add(`${at}.inputs${problem.path}`, ErrorCode.VALIDATION_ERROR, problem.message);
      }
    }
    let id: string;
    if (spec.id === undefined || spec.id === null) {
      id = context.generateId();
    } else if (typeof spec.id !== "string" || spec.id.length === 0 || spec.id.length > MAX_NAME_LENGTH) {
      add(`${at}.id`, ErrorCode.VALIDATION_ERROR, `must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
      id = context.generateId();
    } else {
      id = spec.id;
      if (byId.has(id)) {
        add(`${at}.id`, ErrorCode.DUPLICATE_ID, `id "${id}" is also used by tasks[${byId.get(id)}]`);
      } else if (context.existingIds.has(id)) {
        add(`${at}.id`, ErrorCode.DUPLICATE_ID, `a task with id "${id}" already exists; omit the id to get a new one`);
      }
    }
    ids.push(id);
    if (!byId.has(id)) byId.set(id, i);
    if (typeof spec.name === "string") {
      const other = byName.get(spec.name);
      if (other !== undefined) {
        add(`${at}.name`, ErrorCode.DUPLICATE_NAME, `name "${spec.name}" is also used by tasks[${other}]`);
      } else {
        byName.set(spec.name, i);
      }
    }
  });

  // A reference names an id of the request first, then a name of the request.
  const resolve = (ref: unknown, at: string): number | undefined => {
    if (typeof ref !== "string" || ref.length === 0) {
      add(at, ErrorCode.VALIDATION_ERROR, "must be a task id or name");
      return undefined;
    }
    const index = byId.get(ref) ?? byName.get(ref);
    if (index !== undefined) return index;
    if (context.existingIds.has(ref)) {
      add(
        at,
        ErrorCode.REFERENCE_OUTSIDE_TREE,
        `"${ref}" is a task of another tree; a request creates one whole tree and may only reference its own tasks`,
      );
    } else {
      add(at, ErrorCode.UNKNOWN_REFERENCE, `"${ref}" is neither the id nor the name of a task in this request`);
    }
    return undefined;
  };

  // Pass 2: parents and dependencies.
  const parentOf: (number | null)[] = [];
  const depsOf: { index: number; required: boolean }[][] = [];
  specs.forEach((raw, i) => {
    const at = `tasks[${i}]`;
    parentOf.push(null);
    depsOf.push([]);
    if (!isObject(raw)) return;
    const spec = raw as Partial<TaskSpec>;
    if (spec.parentId !== undefined && spec.parentId !== null) {
      const parent = resolve(spec.parentId, `${at}.parentId`);
      if (parent === i) add(`${at}.parentId`, ErrorCode.INVALID_PARENT, "a task cannot be its own parent");
      else if (parent !== undefined) parentOf[i] = parent;
    }
    if (spec.dependencies === undefined || spec.dependencies === null) return;
    if (!Array.isArray(spec.dependencies)) {
      add(`${at}.dependencies`, ErrorCode.VALIDATION_ERROR, "must be an array of { id, required }");
      return;
    }
    const seen = new Set<number>();
    spec.dependencies.forEach((dep, j) => {
      const depAt = `${at}.dependencies[${j}]`;
      const ref = typeof dep === "string" ? dep : isObject(dep) ? dep.id : undefined;
      const required = isObject(dep) && dep.required !== undefined ? dep.required : true;
      if (typeof required !== "boolean") {
        add(`${depAt}.required`, ErrorCode.VALIDATION_ERROR, "must be a boolean");
      }
      const index = resolve(ref, typeof dep === "string" ? depAt : `${depAt}.id`);
      if (index === undefined) return;
      if (index === i) {
        add(depAt, ErrorCode.DEPENDENCY_CYCLE, "a task cannot depend on itself");
      } else if (seen.has(index)) {
        add(depAt, ErrorCode.VALIDATION_ERROR, `depends on "${ref}" more than once`);
      } else {
        seen.add(index);
        depsOf[i]!.push({ index, required: required !== false });
      }
    });
  });

  // One root, and no parent loops.
  const roots = parentOf.flatMap((p, i) => (p === null ? [i] : []));
  if (roots.length > 1) {
    add(
      "tasks",
      ErrorCode.MULTIPLE_ROOTS,
      `a tree has exactly one root (a task without parentId), found ${roots.length}: ${roots.map((r) => label(specs, r)).join(", ")}`,
    );
  }
  const depth = computeDepths(parentOf);
  parentOf.forEach((_, i) => {
    if (depth[i] === -1) {
      add(
        `tasks[${i}].parentId`,
        ErrorCode.INVALID_PARENT,
        `the parent chain of ${label(specs, i)} loops back on itself`,
      );
    }
  });
  if (roots.length === 0 && !problems.some((p) => p.code === ErrorCode.INVALID_PARENT)) {
    add("tasks", ErrorCode.NO_ROOT, "a tree needs one root task (without parentId)");
  }

  for (const cycle of findCycles(depsOf.map((deps) => deps.map((d) => d.index)))) {
    add(
      `tasks[${cycle[0]}].dependencies`,
      ErrorCode.DEPENDENCY_CYCLE,
      `dependency cycle: ${[...cycle, cycle[0]!].map((i) => label(specs, i)).join(" -> ")}`,
    );
  }

  if (problems.length > 0) throw validationError(problems, "task tree");

  const rootId = ids[roots[0]!]!;
  const tasks: NewTask[] = (specs as TaskSpec[]).map((spec, i) => ({
    id: ids[i]!,
    treeId: rootId,
    parentId: parentOf[i] === null ? null : ids[parentOf[i]!]!,
    depth: depth[i]!,
    position: i,
    name: spec.name,
    executor: spec.executor,
    inputs: spec.inputs ?? {},
    params: spec.params ?? {},
    priority: spec.priority ?? DEFAULT_PRIORITY,
    maxAttempts: spec.maxAttempts ?? 1,
    timeoutMs: spec.timeoutMs ?? null,
    idempotencyKey: spec.idempotencyKey ?? null,
    placement: spec.placement ?? null,
    originType: "create",
    originalTaskId: null,
    userId: spec.userId ?? null,
    dependencies: depsOf[i]!.map((d) => ({ id: ids[d.index]!, required: d.required })),
  }));
  // Parents before children, so inserts satisfy the parent foreign key.
  tasks.sort((a, b) => a.depth - b.depth || a.position - b.position);
  return { rootId, tasks };
}

type AddProblem = (path: string, code: ErrorCode, message: string) => void;

function checkFields(spec: Partial<TaskSpec>, at: string, add: AddProblem, context: PlanContext): void {
  checkName(spec.name, at, add);
  if (typeof spec.executor !== "string" || spec.executor.length === 0) {
    add(`${at}.executor`, ErrorCode.VALIDATION_ERROR, "is required: the id of an executor, e.g. rest_executor");
  } else {
    const availability = context.executorAvailability(spec.executor);
    if (availability === "unknown") {
      add(`${at}.executor`, ErrorCode.EXECUTOR_NOT_FOUND, `no executor "${spec.executor}" is registered`);
    } else if (availability === "forbidden") {
      add(`${at}.executor`, ErrorCode.EXECUTOR_FORBIDDEN, `executor "${spec.executor}" is not enabled on this server`);
    }
  }
  checkSettings(spec, at, add);
  if (spec.idempotencyKey !== undefined && spec.idempotencyKey !== null) {
    if (typeof spec.idempotencyKey !== "string" || spec.idempotencyKey.length === 0) {
      add(`${at}.idempotencyKey`, ErrorCode.VALIDATION_ERROR, "must be a non-empty string");
    } else if (context.usedIdempotencyKeys?.has(spec.idempotencyKey)) {
      add(
        `${at}.idempotencyKey`,
        ErrorCode.CONFLICT,
        `idempotency key "${spec.idempotencyKey}" is already used by another task`,
      );
    }
  }
  if (spec.placement !== undefined && spec.placement !== null) {
    checkPlacement(spec.placement, `${at}.placement`, add);
  }
}

function checkName(name: unknown, at: string, add: AddProblem): void {
  if (typeof name !== "string" || name.trim().length === 0 || name.length > MAX_NAME_LENGTH) {
    add(`${at}.name`, ErrorCode.VALIDATION_ERROR, `is required: a string of 1 to ${MAX_NAME_LENGTH} characters`);
  }
}

/** The fields a task may change after creation (see `validatePatch`). */
export type TaskPatch = Partial<
  Pick<TaskSpec, "name" | "inputs" | "params" | "priority" | "maxAttempts" | "timeoutMs">
>;

/** Checks an update of a task's editable fields; throws one error listing every problem. */
export function validatePatch(patch: unknown): TaskPatch {
  const problems: Problem[] = [];
  const add = (path: string, code: ErrorCode, message: string) => problems.push({ path, code, message });
  if (!isObject(patch)) {
    add("input", ErrorCode.VALIDATION_ERROR, "must be an object");
    throw validationError(problems, "update");
  }
  const allowed = ["name", "inputs", "params", "priority", "maxAttempts", "timeoutMs"];
  for (const key of Object.keys(patch)) {
    if (!allowed.includes(key)) {
      add(`input.${key}`, ErrorCode.VALIDATION_ERROR, `cannot be changed; editable fields: ${allowed.join(", ")}`);
    }
  }
  if (patch.name !== undefined) checkName(patch.name, "input", add);
  checkSettings(patch as Partial<TaskSpec>, "input", add);
  if (problems.length > 0) throw validationError(problems, "update");
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as TaskPatch;
}

/** Checks the optional settings shared by creation and update. */
function checkSettings(spec: Partial<TaskSpec>, at: string, add: AddProblem): void {
  for (const field of ["inputs", "params"] as const) {
    const value = spec[field];
    if (value !== undefined && value !== null && !isObject(value)) {
      add(`${at}.${field}`, ErrorCode.VALIDATION_ERROR, "must be a JSON object");
    }
  }
  if (spec.priority !== undefined && !(Number.isInteger(spec.priority) && (spec.priority as number) >= 0)) {
    add(`${at}.priority`, ErrorCode.VALIDATION_ERROR, "must be an integer >= 0 (0 is the most urgent)");
  }
  if (
    spec.maxAttempts !== undefined &&
    !(Number.isInteger(spec.maxAttempts) && spec.maxAttempts >= 1 && spec.maxAttempts <= MAX_ATTEMPTS_LIMIT)
  ) {
    add(`${at}.maxAttempts`, ErrorCode.VALIDATION_ERROR, `must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}`);
  }
  if (
    spec.timeoutMs !== undefined &&
    spec.timeoutMs !== null &&
    !(Number.isInteger(spec.timeoutMs) && spec.timeoutMs > 0 && spec.timeoutMs <= 2_147_483_647)
  ) {
    add(`${at}.timeoutMs`, ErrorCode.VALIDATION_ERROR, "must be a positive integer number of milliseconds");
  }
}

function checkPlacement(placement: unknown, at: string, add: AddProblem): void {
  if (!isObject(placement)) {
    add(at, ErrorCode.VALIDATION_ERROR, "must be an object { executors, tags, allowNodes, forbidNodes }");
    return;
  }
  for (const [key, value] of Object.entries(placement)) {
    if (!["executors", "tags", "allowNodes", "forbidNodes"].includes(key)) {
      add(
        `${at}.${key}`,
        ErrorCode.VALIDATION_ERROR,
        "is not a placement field (executors, tags, allowNodes, forbidNodes)",
      );
    } else if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
      add(`${at}.${key}`, ErrorCode.VALIDATION_ERROR, "must be an array of strings");
    }
  }
}

/** Depth of each task from its root; -1 where the parent chain loops. */
function computeDepths(parentOf: readonly (number | null)[]): number[] {
  const depth = parentOf.map(() => -2); // -2: not computed yet
  for (let start = 0; start < parentOf.length; start++) {
    const chain: number[] = [];
    const onChain = new Set<number>();
    let at: number | null = start;
    let base = 0;
    while (at !== null) {
      if (depth[at]! >= 0 || depth[at] === -1) {
        base = depth[at] === -1 ? -1 : depth[at]! + 1;
        break;
      }
      if (onChain.has(at)) {
        base = -1;
        break;
      }
      chain.push(at);
      onChain.add(at);
      at = parentOf[at]!;
    }
    for (let k = chain.length - 1; k >= 0; k--) {
      depth[chain[k]!] = base === -1 ? -1 : base;
      if (base !== -1) base++;
    }
  }
  return depth;
}

/**
 * Cycles found by depth-first search, one per back edge (enough to report each
 * loop). Iterative, so a 10,000-task dependency chain cannot overflow the stack.
 */
export function findCycles(edges: readonly number[][]): number[][] {
  const state = edges.map(() => 0); // 0 new, 1 on the path, 2 done
  const cycles: number[][] = [];
  const seenCycles = new Set<string>();
  const path: number[] = [];
  const nextEdge: number[] = [];
  for (let start = 0; start < edges.length; start++) {
    if (state[start] !== 0) continue;
    path.push(start);
    nextEdge.push(0);
    state[start] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top]!;
      const out = edges[node] ?? [];
      if (nextEdge[top]! < out.length) {
        const next = out[nextEdge[top]!]!;
        nextEdge[top]!++;
        if (state[next] === 0) {
          state[next] = 1;
          path.push(next);
          nextEdge.push(0);
        } else if (state[next] === 1) {
          const cycle = path.slice(path.indexOf(next));
          const key = [...cycle].sort((a, b) => a - b).join(",");
          if (!seenCycles.has(key)) {
            seenCycles.add(key);
            cycles.push(cycle);
          }
        }
      } else {
        state[node] = 2;
        path.pop();
        nextEdge.pop();
      }
    }
  }
  return cycles;
}

function label(specs: unknown[], index: number): string {
  const spec = specs[index];
  return isObject(spec) && typeof spec.name === "string" ? `"${spec.name}"` : `tasks[${index}]`;
}

// biome-ignore lint/suspicious/noExplicitAny: a guard for untrusted input; callers check each field's type.
export function isObject(value: unknown): value is Record<string, any> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
