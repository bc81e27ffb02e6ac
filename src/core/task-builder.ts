/**
 * A fluent way to build a whole task tree in code: children, dependencies (by
 * handle, so typos are impossible), priorities. `build()` gives the flat array
 * that every create operation takes.
 *
 *   const tree = new TaskBuilder();
 *   const report = tree.root({ name: "report", executor: "aggregate_results_executor" });
 *   const a = report.child({ name: "a", executor: "rest_executor", inputs: { url } });
 *   const b = report.child({ name: "b", executor: "rest_executor", inputs: { url } });
 *   report.dependsOn(a, b);
 *   await apflow.createTree(tree.build(), { execute: true });
 */
import { ApflowError, ErrorCode } from "./errors.js";
import type { TaskSpec } from "./tree-plan.js";

export type TaskFields = Omit<TaskSpec, "parentId" | "dependencies">;

export class TaskHandle {
  /** @internal */
  readonly spec: TaskSpec;

  constructor(
    private readonly builder: TaskBuilder,
    spec: TaskSpec,
  ) {
    this.spec = spec;
  }

  get name(): string {
    return this.spec.name;
  }

  /** Adds a child (organisational: it does not order execution). */
  child(fields: TaskFields): TaskHandle {
    return this.builder.add({ ...fields, parentId: this.ref() });
  }

  /** This task runs after each of `tasks` completed (a failure fails this task). */
  dependsOn(...tasks: TaskHandle[]): this {
    return this.addDependencies(tasks, true);
  }

  /** This task waits for each of `tasks` but runs even if they fail. */
  after(...tasks: TaskHandle[]): this {
    return this.addDependencies(tasks, false);
  }

  /** Sets more fields (priority, inputs, retries...). */
  set(fields: Partial<TaskFields>): this {
    Object.assign(this.spec, fields);
    return this;
  }

  /** @internal how other tasks of the same request refer to this one. */
  ref(): string {
    return this.spec.id ?? this.spec.name;
  }

  private addDependencies(tasks: TaskHandle[], required: boolean): this {
    this.spec.dependencies ??= [];
    for (const task of tasks) {
      if (!this.builder.owns(task)) {
        throw new ApflowError(ErrorCode.VALIDATION_ERROR, `"${task.name}" belongs to another TaskBuilder`);
      }
      this.spec.dependencies.push({ id: task.ref(), required });
    }
    return this;
  }
}

export class TaskBuilder {
  private readonly handles: TaskHandle[] = [];

  /** The root of the tree (one per builder). */
  root(fields: TaskFields): TaskHandle {
    if (this.handles.some((h) => h.spec.parentId === undefined)) {
      throw new ApflowError(ErrorCode.MULTIPLE_ROOTS, "a TaskBuilder builds one tree: root() was already called");
    }
    return this.add({ ...fields });
  }

  /** @internal */
  add(spec: TaskSpec): TaskHandle {
    const handle = new TaskHandle(this, spec);
    this.handles.push(handle);
    return handle;
  }

  /** @internal */
  owns(handle: TaskHandle): boolean {
    return this.handles.includes(handle);
  }

  /** The flat task array (copies: the builder can keep changing). */
  build(): TaskSpec[] {
    return this.handles.map((h) => structuredClone(h.spec));
  }
}
