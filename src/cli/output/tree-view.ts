/**
 * A task tree drawn with box characters: one line per task with its status symbol,
 * name, executor, and a progress bar while it runs or the error once it failed.
 *
 *   ✓ report  aggregate_results_executor  completed
 *   ├─ ✓ cpu  system_info_executor  completed
 *   └─ ◐ memory  system_info_executor  [████░░░░░░]  40%
 */
import type { TaskView } from "../gateway/gateway.js";
import type { Style } from "./style.js";
import { progressBar, statusPaint, statusSymbol, statusText } from "./task-format.js";
import { renderLine, type Segment } from "./text.js";

/** The tasks in drawing order (depth first, siblings in the given order) with each one's prefix. */
export function treeRows(tasks: readonly TaskView[], rootId: string): { task: TaskView; prefix: string }[] {
  const children = new Map<string, TaskView[]>();
  for (const task of tasks) {
    if (task.parentId !== null && task.id !== rootId) {
      children.set(task.parentId, [...(children.get(task.parentId) ?? []), task]);
    }
  }
  const rows: { task: TaskView; prefix: string }[] = [];
  const visit = (task: TaskView, lead: string, branch: string) => {
    rows.push({ task, prefix: branch });
    const kids = children.get(task.id) ?? [];
    kids.forEach((child, i) => {
      const last = i === kids.length - 1;
      visit(child, `${lead}${last ? "   " : "│  "}`, `${lead}${last ? "└─ " : "├─ "}`);
    });
  };
  const root = tasks.find((task) => task.id === rootId);
  if (root) visit(root, "", "");
  return rows;
}

/** One task's line (without the tree prefix's colour). */
export function taskLine(task: TaskView, prefix: string, style: Style, width?: number): string {
  const segments: Segment[] = [
    [prefix, "dim"],
    [`${statusSymbol(task.status)} `, statusPaint(task.status)],
    [task.name, "bold"],
    [`  ${task.executor}`, "dim"],
    ["  "],
  ];
  if (task.status === "in_progress") segments.push([progressBar(task.progress), "yellow"]);
  else segments.push([statusText(task.status), statusPaint(task.status)]);
  if (task.attempt > 1) segments.push([` (attempt ${task.attempt}/${task.maxAttempts})`, "dim"]);
  if (task.error && (task.status === "failed" || task.status === "cancelled")) {
    segments.push([`: ${task.error.split("\n")[0]}`, task.status === "failed" ? "red" : "dim"]);
  }
  return renderLine(segments, style, width);
}

export function renderTree(tasks: readonly TaskView[], rootId: string, style: Style, width?: number): string[] {
  return treeRows(tasks, rootId).map(({ task, prefix }) => taskLine(task, prefix, style, width));
}
