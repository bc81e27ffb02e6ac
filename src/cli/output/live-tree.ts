/**
 * The live view of a running tree (`apflow run`, `apflow tasks watch`). On a terminal
 * the tree is redrawn in place, at most every REDRAW_MS, with a summary line; when
 * stdout is a pipe or a file each event is one plain line instead; with --json
 * events are JSON lines (watch) or nothing until the final document (run).
 */
import type { TaskView, TreeEvent } from "../gateway/gateway.js";
import type { Output } from "./output.js";
import { duration, percent, progressBar, shortTime, statusPaint } from "./task-format.js";
import { renderLine, type Segment } from "./text.js";
import { renderTree, taskLine, treeRows } from "./tree-view.js";

export type LiveMode = "redraw" | "lines" | "json-lines" | "silent";

const REDRAW_MS = 100;
/** ESC [ n F: cursor to the start of the line n lines up; ESC [ J: clear to the end of the screen. */
const up = (lines: number) => (lines > 0 ? `\u001b[${lines}F\u001b[J` : "");

export class LiveTree {
  private readonly tasks = new Map<string, TaskView>();
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();

  constructor(
    private readonly out: Output,
    private readonly rootId: string,
    tasks: readonly TaskView[],
    private readonly mode: LiveMode,
  ) {
    for (const task of tasks) this.tasks.set(task.id, { ...task });
    if (mode === "redraw") this.draw();
  }

  /** The view's tasks as the events left them. */
  get current(): TaskView[] {
    return [...this.tasks.values()];
  }

  apply(event: TreeEvent): void {
    const task = this.tasks.get(event.taskId);
    if (task) {
      task.status = event.status;
      task.progress = event.progress;
      task.attempt = event.attempt;
      if (event.type === "failed" || event.type === "cancelled") task.error = event.message;
      if (event.type === "queued" || event.type === "retrying") task.error = null;
    }
    if (this.mode === "json-lines") this.out.printJsonLine(event);
    else if (this.mode === "lines") this.out.print(this.eventLine(event, task));
    else if (this.mode === "redraw") this.timer ??= setTimeout(() => this.draw(), REDRAW_MS);
  }

  /** Shows the final state: redrawn in place on a terminal, printed as a tree otherwise. */
  finish(tasks: readonly TaskView[]): void {
    for (const task of tasks) this.tasks.set(task.id, { ...task });
    if (this.mode === "redraw") this.draw();
    if (this.mode === "lines") {
      this.out.print();
      for (const line of renderTree(this.current, this.rootId, this.out.style)) this.out.print(line);
    }
  }

  /** Stops redrawing (the last drawing stays). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private draw(): void {
    this.stop();
    const lines = [this.summary(), ...this.treeLines()];
    this.out.write(`${up(this.drawn)}${lines.join("\n")}\n`);
    this.drawn = lines.length;
  }

  /** The tree, or when it is taller than the terminal, the tasks worth watching. */
  private treeLines(): string[] {
    const width = this.out.width;
    const rows = treeRows(this.current, this.rootId);
    const room = Math.max((this.out.height ?? 24) - 2, 3);
    if (rows.length <= room) return rows.map(({ task, prefix }) => taskLine(task, prefix, this.out.style, width));
    const shown = rows
      .filter(({ task }) => task.status === "in_progress" || task.status === "failed")
      .slice(0, room - 1);
    return [
      ...shown.map(({ task }) => taskLine(task, "", this.out.style, width)),
      this.out.style.dim(`… ${rows.length - shown.length} more tasks (the whole tree is shown at the end)`),
    ];
  }

  private summary(): string {
    const tasks = this.current;
    const count = (status: TaskView["status"]) => tasks.filter((t) => t.status === status).length;
    const done = count("completed") + count("failed") + count("cancelled");
    const progress =
      tasks.reduce((sum, t) => sum + (t.status === "pending" || t.status === "in_progress" ? t.progress : 1), 0) /
      Math.max(tasks.length, 1);
    const segments: Segment[] = [
      [`${done}/${tasks.length} finished  `],
      [progressBar(progress, 20), "cyan"],
      [`  ${count("in_progress")} running`],
    ];
    if (count("failed") > 0) segments.push([`, ${count("failed")} failed`, "red"]);
    segments.push([`  ${duration(Date.now() - this.startedAt)}`, "dim"]);
    return renderLine(segments, this.out.style, this.out.width);
  }

  private eventLine(event: TreeEvent, task: TaskView | undefined): string {
    const name = task?.name ?? event.taskId;
    const segments: Segment[] = [
      [`${shortTime(event.at)}  `, "dim"],
      [event.type.padEnd(10), statusPaint(event.status)],
    ];
    segments.push([name, "bold"]);
    if (event.type === "progress") segments.push([`  ${percent(event.progress)}`]);
    if (event.type === "retrying" && task)
      segments.push([` (attempt ${event.attempt}/${task.maxAttempts} failed)`, "dim"]);
    if (event.message)
      segments.push([`: ${event.message.split("\n")[0]}`, event.type === "failed" ? "red" : undefined]);
    return renderLine(segments, this.out.style);
  }
}
