/** `apflow tasks watch ID`: follow a tree live until it is finished. */
import type { Command } from "../command.js";
import { followTree, outcomeLine } from "../follow.js";
import type { LiveMode } from "../output/live-tree.js";

export const tasksWatchCommand: Command = {
  name: "tasks watch",
  summary: "Follow a tree live (given any of its tasks) until every task is finished",
  args: ["ID"],
  details: [
    "Replays the tree's events so far, then shows new ones as they happen. With --json, prints one",
    "event per line. The exit code is 0 when every task completed, 1 otherwise, 130 after Ctrl-C",
    "(which stops watching; the tree carries on). On the embedded database with no server, the tree",
    "runs in this process while you watch it.",
  ].join("\n"),
  async run(ctx, { args }) {
    const gateway = await ctx.gateway({ runTasks: "embedded" });
    const task = await gateway.getTask(args[0]!);
    const root = task.id === task.treeId ? task : await gateway.getTask(task.treeId);
    const out = ctx.out;
    const mode: LiveMode = out.json ? "json-lines" : out.interactive ? "redraw" : "lines";
    out.note(`Watching tree ${root.treeId} in ${gateway.where} (Ctrl-C stops watching).`);
    const { tasks, exitCode } = await followTree(out, gateway, root, { mode, onInterrupt: "stop" });
    if (!out.json) out.print(outcomeLine(out, tasks));
    return exitCode;
  },
};
