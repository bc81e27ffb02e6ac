/** Assembles the schema: each import registers its part on the builder. */
import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.js";
import "./cluster.js";
import "./executors.js";
import "./schedules.js";
import "./subscriptions.js";
import "./task.js";
import "./task-event.js";
import "./task-mutations.js";
import "./task-queries.js";

export const schema = builder.toSchema();

/** The SDL committed as schema.graphql (sorted, so diffs show real changes only). */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
