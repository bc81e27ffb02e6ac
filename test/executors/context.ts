/**
 * A minimal ExecutorContext for running executors alone in tests: it records progress
 * and log lines so tests can look at them, and takes an AbortSignal to test cancelling.
 */
import { expect } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { ExecutorContext, Logger } from "../../src/core/executor.js";
import type { DependencyResult } from "../../src/core/ports.js";
import type { JsonObject, Task } from "../../src/core/types.js";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown>;
}

export interface FakeContext extends ExecutorContext {
  progress: { progress: number; message: string | undefined }[];
  logs: LogLine[];
}

export function fakeTask(overrides: Partial<Task> = {}): Task {
  const now = new Date();
  return {
    id: "task-1",
    treeId: "task-1",
    parentId: null,
    depth: 0,
    position: 0,
    name: "test task",
    executor: "test_executor",
    inputs: {},
    params: {},
    priority: 2,
    status: "in_progress",
    progress: 0,
    result: null,
    error: null,
    errorCode: null,
    attempt: 1,
    maxAttempts: 1,
    timeoutMs: null,
    idempotencyKey: null,
    dependencies: [],
    queued: true,
    notBefore: null,
    leaseOwner: "test-node",
    leaseExpiresAt: null,
    placement: null,
    originType: "create",
    originalTaskId: null,
    userId: null,
    schedule: null,
    createdAt: now,
    startedAt: now,
    completedAt: null,
    updatedAt: now,
    ...overrides,
  };
}

export function fakeContext(
  options: { signal?: AbortSignal; dependencies?: DependencyResult[]; params?: JsonObject; task?: Partial<Task> } = {},
): FakeContext {
  const logs: LogLine[] = [];
  const logger = (fields: Record<string, unknown>): Logger => {
    const log =
      (level: LogLine["level"]) =>
      (message: string, extra?: Record<string, unknown>): void => {
        logs.push({ level, message, fields: { ...fields, ...extra } });
      };
    return {
      debug: log("debug"),
      info: log("info"),
      warn: log("warn"),
      error: log("error"),
      child: (more) => logger({ ...fields, ...more }),
    };
  };
  const progress: FakeContext["progress"] = [];
  return {
    signal: options.signal ?? new AbortController().signal,
    reportProgress: (value, message) => progress.push({ progress: value, message }),
    task: fakeTask(options.task),
    params: options.params ?? {},
    dependencies: options.dependencies ?? [],
    logger: logger({}),
    progress,
    logs,
  };
}

/** Runs `fn` and returns what it threw (fails the test if it did not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but it resolved");
}

/** Runs `fn` and returns the ApflowError it threw (fails the test if it threw anything else, or nothing). */
export async function caughtApflowError(fn: () => Promise<unknown>): Promise<ApflowError> {
  const error = await caught(fn);
  expect(error).toBeInstanceOf(ApflowError);
  return error as ApflowError;
}
