/** The executors this node offers, with their input schemas and availability. */
import type { ExecutorInfo } from "../core/executor-registry.js";
import { builder } from "./builder.js";

const ExecutorRef = builder.objectRef<ExecutorInfo>("Executor").implement({
  description: "What runs a task (a task names one in `executor`).",
  fields: (t) => ({
    id: t.exposeID("id"),
    description: t.exposeString("description"),
    inputSchema: t.field({ type: "JSON", description: "JSON Schema of the inputs.", resolve: (e) => e.inputSchema }),
    available: t.exposeBoolean("available", { description: "false when this server does not allow it." }),
    unavailableReason: t.exposeString("unavailableReason", { nullable: true }),
  }),
});

builder.queryField("executors", (t) =>
  t.field({
    type: [ExecutorRef],
    description: "Every executor this server knows, sorted by id.",
    resolve: (_root, _args, ctx) => ctx.apflow.executors.list(),
  }),
);
