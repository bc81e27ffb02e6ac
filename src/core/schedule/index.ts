/**
 * Schedules of root tasks, pure (no I/O): parsing and validation, the next run in a
 * time zone (with its DST rules), human descriptions, the iCalendar export and
 * webhook signatures. The scheduler loop, storage and APIs are built on these.
 */
export { describeSchedule } from "./describe.js";
export { type ICalEntry, toICalendar } from "./ical.js";
export { nextRun } from "./next-run.js";
export { parseSchedule, SCHEDULE_TYPES, type Schedule, type ScheduleInput, type ScheduleType } from "./spec.js";
export { signWebhook, verifyWebhook, type WebhookCheck } from "./webhook-signature.js";
