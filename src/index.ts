/** apflow's public library API. */
export { type Apflow, type ApflowOptions, createApflow } from "./apflow.js";
export { type ApflowConfig, loadConfig } from "./config/index.js";
export { ApflowError, ErrorCode, type Problem } from "./core/errors.js";
export { defineExecutor, type Executor, type ExecutorContext, type JsonSchema, type Logger } from "./core/executor.js";
export type { ExecutorInfo } from "./core/executor-registry.js";
export type { DependencyResult, TaskQuery } from "./core/ports.js";
export type { Schedule, ScheduleInput, ScheduleType } from "./core/schedule/index.js";
export {
  type ScheduleListOptions,
  ScheduleService,
  type ScheduleSettingInput,
  scheduleCursor,
  type TriggerSource,
} from "./core/schedule-service.js";
export { TaskBuilder, type TaskFields, TaskHandle } from "./core/task-builder.js";
export type { CreateTreeOptions, TaskNode } from "./core/task-service.js";
export type { TaskSpec } from "./core/tree-plan.js";
export type {
  JsonObject,
  JsonValue,
  MissedRunPolicy,
  Placement,
  Task,
  TaskEvent,
  TaskEventType,
  TaskSchedule,
  TaskStatus,
} from "./core/types.js";
