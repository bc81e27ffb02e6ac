/** GraphQL enums of the task model: upper-case names over the stored lower-case values. */
import { EVENT_TYPES, TASK_STATUSES } from "../core/types.js";
import { builder } from "./builder.js";

export const TaskStatusEnum = builder.enumType("TaskStatus", {
  description: "pending -> in_progress -> completed | failed | cancelled (state machine enforced by the engine).",
  values: Object.fromEntries(TASK_STATUSES.map((s) => [s.toUpperCase(), { value: s }])) as Record<
    Uppercase<(typeof TASK_STATUSES)[number]>,
    { value: (typeof TASK_STATUSES)[number] }
  >,
});

export const TaskEventTypeEnum = builder.enumType("TaskEventType", {
  values: Object.fromEntries(EVENT_TYPES.map((s) => [s.toUpperCase(), { value: s }])) as Record<
    Uppercase<(typeof EVENT_TYPES)[number]>,
    { value: (typeof EVENT_TYPES)[number] }
  >,
});
