/** `apflow tasks cancel | copy | delete`: changing tasks. */
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { stringOption } from "../option-values.js";
import { statusText } from "../output/task-format.js";

export const tasksCancelCommand: Command = {
  name: "tasks cancel",
  summary: "Cancel a task, its descendants and the tasks that require it",
  args: ["ID"],
  options: { reason: { type: "string", value: "TEXT", description: "Recorded as the tasks' error message." } },
  async run(ctx, { args, options }) {
    const gateway = await ctx.gateway();
    const task = await gateway.cancelTask(args[0]!, stringOption(options, "reason") ?? "cancelled with the apflow CLI");
    if (ctx.out.json) ctx.out.printJson(task);
    else ctx.out.print(`${task.name} (${task.id}): ${statusText(task.status)}`);
    return ExitCode.OK;
  },
};

export const tasksCopyCommand: Command = {
  name: "tasks copy",
  summary: "Copy a task's subtree into a new independent tree; prints the new root's id",
  args: ["ID"],
  options: { execute: { type: "boolean", description: "Ask the copy to run at once." } },
  async run(ctx, { args, options }) {
    const gateway = await ctx.gateway();
    const copy = await gateway.copyTask(args[0]!, { execute: options.execute === true });
    if (ctx.out.json) {
      ctx.out.printJson(copy);
      return ExitCode.OK;
    }
    ctx.out.print(copy.id);
    ctx.out.note(
      options.execute
        ? `Copied into tree ${copy.id}, queued to run; follow it with \`apflow tasks watch ${copy.id}\`.`
        : `Copied into tree ${copy.id}; it does not run until asked (copy with --execute to run it at once).`,
    );
    return ExitCode.OK;
  },
};

export const tasksDeleteCommand: Command = {
  name: "tasks delete",
  summary: "Delete a task and its descendants (only while all of them are pending)",
  args: ["ID"],
  async run(ctx, { args }) {
    const id = args[0]!;
    await (await ctx.gateway()).deleteTask(id);
    if (ctx.out.json) ctx.out.printJson({ deleted: id });
    else ctx.out.print(`Deleted ${id} and its descendants.`);
    return ExitCode.OK;
  },
};
