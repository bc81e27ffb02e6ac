/** `apflow run FILE`: create a tree from a task file, run it, follow it to the end. */
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { followTree, outcomeLine } from "../follow.js";
import { secondsOption } from "../option-values.js";
import type { LiveMode } from "../output/live-tree.js";
import { count } from "../output/task-format.js";
import { readTaskFile } from "../task-file.js";

/** Lines of the root's result shown after a run (the whole result: `apflow tasks get ID --json`). */
const RESULT_LINES = 30;

export const runCommand: Command = {
  name: "run",
  summary: "Create a task tree from a JSON or YAML file, run it and show its progress live",
  args: ["FILE"],
  options: {
    "no-wait": { type: "boolean", description: "Create the tree, ask it to run, print the root's id and exit." },
    timeout: { type: "string", value: "SECONDS", description: "Cancel the tree if it has not finished by then." },
  },
  details: [
    'FILE holds a task array, or { "tasks": [...] }, in apflow\'s format (name, executor, inputs,',
    "parentId, dependencies: [{ id, required }], priority, maxAttempts, timeoutMs...) or the Python",
    "apflow's (snake_case fields, the executor in schemas.method). Every problem is listed at once.",
    "",
    "Without a server the tree runs in this process (only this tree: other queued work is left to the",
    "servers); with one (an API URL, or a server holding the embedded database) it runs there. The",
    "exit code is 0 when every task completed, 1 otherwise.",
    "Ctrl-C cancels the tree; a second Ctrl-C quits at once.",
    "",
    "Example:  apflow run tree.yaml --timeout 600",
  ].join("\n"),
  async run(ctx, { args, options }) {
    const timeout = secondsOption(options, "timeout");
    const file = await readTaskFile(args[0]!);
    for (const warning of file.warnings) ctx.out.note(`warning: ${warning}`);
    const wait = options["no-wait"] !== true;
    const gateway = await ctx.gateway({ runTasks: wait ? "created" : "never" });
    const root = await gateway.createTree(file.tasks, { execute: true });
    const out = ctx.out;
    if (!wait) {
      if (out.json) out.printJson(root);
      else out.print(root.id);
      out.note(
        `Created tree ${root.id} (${count(file.tasks.length, "task")}) in ${gateway.where}; ` +
          (gateway.kind === "embedded"
            ? `it runs when a server opens the database, or here with \`apflow tasks watch ${root.id}\`.`
            : `follow it with \`apflow tasks watch ${root.id}\`.`),
      );
      return ExitCode.OK;
    }
    out.note(`Running tree ${root.id} (${count(file.tasks.length, "task")}) in ${gateway.where}.`);
    const mode: LiveMode = out.json ? "silent" : out.interactive ? "redraw" : "lines";
    const { tasks, exitCode } = await followTree(out, gateway, root, {
      mode,
      onInterrupt: "cancel",
      ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
    });
    if (out.json) {
      out.printJson({ root: tasks[0], tasks });
      return exitCode;
    }
    out.print(outcomeLine(out, tasks));
    const result = tasks[0]?.status === "completed" ? tasks[0].result : null;
    if (result !== null && result !== undefined) {
      const lines = JSON.stringify(result, null, 2).split("\n");
      out.print(out.style.bold("result:"));
      for (const line of lines.slice(0, RESULT_LINES)) out.print(`  ${line}`);
      if (lines.length > RESULT_LINES) {
        out.print(out.style.dim(`  … ${lines.length - RESULT_LINES} more lines: apflow tasks get ${root.id} --json`));
      }
    }
    for (const task of tasks.filter((t) => t.status === "failed" && t.errorCode !== "DEPENDENCY_FAILED")) {
      out.print(
        out.style.red(`${task.name} failed${task.errorCode ? ` [${task.errorCode}]` : ""}: ${task.error ?? ""}`),
      );
    }
    return exitCode;
  },
};
