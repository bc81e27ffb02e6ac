/**
 * Following a tree until it is finished, for `apflow run` and `apflow tasks watch`:
 * the live view, Ctrl-C (first: cancel the tree, or stop watching; second: quit at
 * once), an optional timeout, and the outcome as an exit code.
 */
import { ExitCode } from "./exit-codes.js";
import type { Gateway, TaskView } from "./gateway/gateway.js";
import { type LiveMode, LiveTree } from "./output/live-tree.js";
import type { Output } from "./output/output.js";
import { count, duration } from "./output/task-format.js";

export interface FollowOptions {
  mode: LiveMode;
  /** What the first Ctrl-C does: cancel the tree (`run`) or stop watching it (`watch`). */
  onInterrupt: "cancel" | "stop";
  /** Cancel the tree when it has not finished after this long. */
  timeoutMs?: number;
}

export interface FollowResult {
  /** The tree's tasks at the end, parents before children. */
  tasks: TaskView[];
  exitCode: ExitCode;
}

export async function followTree(
  out: Output,
  gateway: Gateway,
  root: TaskView,
  options: FollowOptions,
): Promise<FollowResult> {
  const view = new LiveTree(out, root.id, await gateway.getSubtree(root.id), options.mode);
  const controller = new AbortController();
  let interrupted = false;
  const cancel = (reason: string) => {
    gateway.cancelTask(root.id, reason).catch((error: unknown) => {
      out.error(`Could not cancel the tree: ${(error as Error).message}`);
      controller.abort();
    });
  };
  const onSigint = () => {
    if (interrupted) {
      view.stop();
      out.error("Stopped at once.");
      process.exit(ExitCode.INTERRUPTED);
    }
    interrupted = true;
    if (options.onInterrupt === "stop") {
      controller.abort();
      return;
    }
    out.error(`Cancelling the tree ${root.id} (press Ctrl-C again to quit at once)...`);
    cancel("interrupted with Ctrl-C in the apflow CLI");
  };
  process.on("SIGINT", onSigint);
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          out.error(`The tree did not finish within ${duration(options.timeoutMs!)}; cancelling it...`);
          cancel(`timed out after ${duration(options.timeoutMs!)} (apflow run --timeout)`);
        }, options.timeoutMs);
  try {
    await gateway.followTree(root.id, (event) => view.apply(event), controller.signal);
  } finally {
    process.off("SIGINT", onSigint);
    clearTimeout(timer);
    view.stop();
  }
  const tasks = await gateway.getSubtree(root.id);
  view.finish(tasks);
  if (interrupted) return { tasks, exitCode: ExitCode.INTERRUPTED };
  const ok = !timedOut && tasks.every((task) => task.status === "completed");
  return { tasks, exitCode: ok ? ExitCode.OK : ExitCode.FAILED };
}

/** The tree's outcome in one line: "✓ 3 tasks completed in 1.2 s" or "✗ 1 failed, 2 completed (of 3 tasks)". */
export function outcomeLine(out: Output, tasks: readonly TaskView[]): string {
  const root = tasks[0];
  const withStatus = (status: TaskView["status"]) => tasks.filter((task) => task.status === status).length;
  const failed = withStatus("failed");
  const cancelled = withStatus("cancelled");
  const style = out.style;
  if (failed === 0 && cancelled === 0 && withStatus("completed") === tasks.length) {
    const took =
      root?.startedAt && root.completedAt
        ? ` in ${duration(Date.parse(root.completedAt) - Math.min(...tasks.map((t) => Date.parse(t.startedAt ?? root.startedAt!))))}`
        : "";
    return style.green(`✓ ${count(tasks.length, "task")} completed${took}`);
  }
  const parts = [
    failed > 0 ? `${failed} failed` : "",
    cancelled > 0 ? `${cancelled} cancelled` : "",
    `${withStatus("completed")} completed`,
    withStatus("pending") + withStatus("in_progress") > 0
      ? `${withStatus("pending") + withStatus("in_progress")} not finished`
      : "",
  ].filter(Boolean);
  return style.red(`✗ ${parts.join(", ")} (of ${count(tasks.length, "task")})`);
}
