/**
 * The executors a node knows, and which of them it may run. Creating a tree checks
 * every task's executor here, so an unknown or blocked one is rejected up front
 * instead of failing at run time.
 */
import { ApflowError, ErrorCode } from "./errors.js";
import type { Executor } from "./executor.js";
import { type InputCheck, type InputProblem, InputSchemaChecker, schemaProblem } from "./input-schema.js";
import type { ExecutorAvailability } from "./tree-plan.js";

export interface ExecutorInfo {
  id: string;
  description: string;
  inputSchema: Executor["inputSchema"];
  available: boolean;
  /** Why the executor is unavailable (null when available). */
  unavailableReason: string | null;
}

export class ExecutorRegistry {
  private readonly executors = new Map<string, Executor>();
  private readonly blocked = new Map<string, string>();
  private readonly schemas = new InputSchemaChecker();

  constructor(executors: Iterable<Executor> = []) {
    for (const executor of executors) this.register(executor);
  }

  register(executor: Executor): this {
    if (!/^[a-z][a-z0-9_.-]*$/i.test(executor.id)) {
      throw new ApflowError(ErrorCode.VALIDATION_ERROR, `executor id "${executor.id}" must be letters, digits, _ . -`);
    }
    if (this.executors.has(executor.id)) {
      throw new ApflowError(ErrorCode.CONFLICT, `an executor with id "${executor.id}" is already registered`);
    }
    // Checked here, so a broken schema stops start-up with its executor named
    // instead of failing the first task that uses it with an untyped error.
    const problem = schemaProblem(executor.inputSchema);
    if (problem !== null) {
      throw new ApflowError(
        ErrorCode.VALIDATION_ERROR,
        `executor "${executor.id}" has an invalid inputSchema (${problem}); it must be a JSON Schema object`,
        { executor: executor.id },
      );
    }
    this.executors.set(executor.id, executor);
    return this;
  }

  /** Problems of `inputs` for executor `id` (none for an unknown executor: that is reported apart). */
  inputProblems(id: string, inputs: unknown, when: InputCheck): InputProblem[] {
    const executor = this.executors.get(id);
    return executor ? this.schemas.check(id, executor.inputSchema, inputs, when) : [];
  }

  /** Keeps an executor listed but refuses to run it, saying why. */
  block(id: string, reason: string): this {
    this.blocked.set(id, reason);
    return this;
  }

  availability(id: string): ExecutorAvailability {
    if (!this.executors.has(id)) return "unknown";
    return this.blocked.has(id) ? "forbidden" : "available";
  }

  /** The executor to run `id`; throws a typed error when it is unknown or blocked. */
  resolve(id: string): Executor {
    const executor = this.executors.get(id);
    if (!executor) {
      throw new ApflowError(ErrorCode.EXECUTOR_NOT_FOUND, `no executor "${id}" is registered on this node`);
    }
    const reason = this.blocked.get(id);
    if (reason !== undefined) throw new ApflowError(ErrorCode.EXECUTOR_FORBIDDEN, reason);
    return executor;
  }

  /** Ids of the executors this node may run. */
  availableIds(): string[] {
    return this.ids().filter((id) => !this.blocked.has(id));
  }

  ids(): string[] {
    return [...this.executors.keys()].sort();
  }

  list(): ExecutorInfo[] {
    return this.ids().map((id) => {
      const executor = this.executors.get(id)!;
      const reason = this.blocked.get(id) ?? null;
      return {
        id,
        description: executor.description,
        inputSchema: executor.inputSchema,
        available: reason === null,
        unavailableReason: reason,
      };
    });
  }
}
