/** `apflow tasks list | get | tree`: reading tasks. */

import { TASK_STATUSES } from "../../core/types.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import type { TaskView } from "../gateway/gateway.js";
import { integerOption, listOption, stringOption } from "../option-values.js";
import { renderTable } from "../output/table.js";
import { count, percent, shortTime, statusPaint, statusText } from "../output/task-format.js";
import { renderTree } from "../output/tree-view.js";

export const tasksListCommand: Command = {
  name: "tasks list",
  summary: "List tasks, newest first, with filters and paging",
  options: {
    status: {
      type: "string",
      multiple: true,
      value: "STATUS",
      description: `Only these statuses (${TASK_STATUSES.join(", ")}); comma-separated or repeated.`,
    },
    executor: { type: "string", value: "ID", description: "Only tasks of this executor." },
    "root-only": { type: "boolean", description: "Only the roots of trees." },
    tree: { type: "string", value: "ID", description: "Only the tasks of this tree (its root's id)." },
    limit: { type: "string", value: "N", description: "Tasks per page, 1 to 500 (default 20)." },
    after: { type: "string", value: "CURSOR", description: "The next page: the cursor the previous page printed." },
  },
  async run(ctx, { options }) {
    const statuses = listOption(options, "status", TASK_STATUSES);
    const limit = integerOption(options, "limit", { min: 1, max: 500 }) ?? 20;
    const executor = stringOption(options, "executor");
    const tree = stringOption(options, "tree");
    const after = stringOption(options, "after");
    const gateway = await ctx.gateway();
    const page = await gateway.listTasks({
      limit,
      ...(statuses ? { status: statuses } : {}),
      ...(executor ? { executor } : {}),
      ...(options["root-only"] ? { rootOnly: true } : {}),
      ...(tree ? { treeId: tree } : {}),
      ...(after ? { after } : {}),
    });
    const out = ctx.out;
    if (out.json) {
      out.printJson(page);
      return ExitCode.OK;
    }
    if (page.tasks.length === 0) {
      out.note(page.total === 0 ? "No tasks match." : "No more tasks.");
      return ExitCode.OK;
    }
    const lines = renderTable<TaskView>(
      [
        { header: "ID", value: (t) => t.id },
        { header: "NAME", value: (t) => t.name, shrink: true },
        { header: "STATUS", value: (t) => statusText(t.status), paint: (t) => statusPaint(t.status) },
        { header: "PROGRESS", value: (t) => percent(t.progress), align: "right" },
        { header: "EXECUTOR", value: (t) => t.executor, shrink: true },
        { header: "CREATED", value: (t) => shortTime(t.createdAt) },
        { header: "TREE", value: (t) => (t.id === t.treeId ? "(root)" : t.treeId), shrink: true },
      ],
      page.tasks,
      out.style,
      out.width,
    );
    for (const line of lines) out.print(line);
    out.note(
      `${page.tasks.length} of ${count(page.total, "task")}${page.next ? `; next page: --after ${page.next}` : ""}`,
    );
    return ExitCode.OK;
  },
};

export const tasksGetCommand: Command = {
  name: "tasks get",
  summary: "Show every field of a task, with its inputs and result",
  args: ["ID"],
  async run(ctx, { args }) {
    const task = await (await ctx.gateway()).getTask(args[0]!);
    const out = ctx.out;
    if (out.json) {
      out.printJson(task);
      return ExitCode.OK;
    }
    const { bold, dim } = out.style;
    const field = (name: string, value: string | number | null) =>
      out.print(`${bold(name.padEnd(15))}${value === null || value === "" ? dim("-") : String(value)}`);
    field("id", task.id);
    field("name", task.name);
    field("status", out.style[statusPaint(task.status)](statusText(task.status)));
    field("progress", percent(task.progress));
    field("executor", task.executor);
    field("tree", task.treeId === task.id ? `${task.treeId} (this is the root)` : task.treeId);
    field("parent", task.parentId);
    field("priority", task.priority);
    field("attempt", `${task.attempt} of ${task.maxAttempts}`);
    field("timeout", task.timeoutMs === null ? null : `${task.timeoutMs} ms`);
    field("idempotency key", task.idempotencyKey);
    field("dependencies", task.dependencies.map((d) => `${d.id}${d.required ? "" : " (optional)"}`).join(", "));
    field("created", task.createdAt);
    field("started", task.startedAt);
    field("completed", task.completedAt);
    field("updated", task.updatedAt);
    if (task.error) field("error", `${task.errorCode ? `[${task.errorCode}] ` : ""}${task.error}`);
    for (const [name, value] of [
      ["inputs", task.inputs],
      ["params", task.params],
      ["result", task.result],
    ] as const) {
      if (value === null || (typeof value === "object" && Object.keys(value as object).length === 0)) {
        field(name, null);
        continue;
      }
      out.print(bold(name));
      for (const line of JSON.stringify(value, null, 2).split("\n")) out.print(`  ${line}`);
    }
    return ExitCode.OK;
  },
};

export const tasksTreeCommand: Command = {
  name: "tasks tree",
  summary: "Show a task and its descendants as a tree, with their statuses",
  args: ["ID"],
  async run(ctx, { args }) {
    const tasks = await (await ctx.gateway()).getSubtree(args[0]!);
    const out = ctx.out;
    if (out.json) {
      out.printJson(nest(tasks));
      return ExitCode.OK;
    }
    for (const line of renderTree(tasks, tasks[0]!.id, out.style, out.width)) out.print(line);
    return ExitCode.OK;
  },
};

type NestedTask = TaskView & { children: NestedTask[] };

/** The flat subtree (parents first) as nested objects. */
function nest(tasks: TaskView[]): NestedTask {
  const nodes = new Map(tasks.map((task) => [task.id, { ...task, children: [] as NestedTask[] }]));
  for (const node of nodes.values()) {
    if (node.parentId !== null && node.id !== tasks[0]!.id) nodes.get(node.parentId)?.children.push(node);
  }
  return nodes.get(tasks[0]!.id)!;
}
