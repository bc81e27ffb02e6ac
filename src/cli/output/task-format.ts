/** How a task's status, progress and times read in human output. */
import type { TaskStatus } from "../../core/types.js";
import type { Paint } from "./text.js";

const SYMBOLS: Record<TaskStatus, string> = {
  pending: "○",
  in_progress: "◐",
  completed: "✓",
  failed: "✗",
  cancelled: "⊘",
};

const PAINTS: Record<TaskStatus, Paint> = {
  pending: "dim",
  in_progress: "yellow",
  completed: "green",
  failed: "red",
  cancelled: "yellow",
};

export function statusSymbol(status: TaskStatus): string {
  return SYMBOLS[status];
}

export function statusPaint(status: TaskStatus): Paint {
  return PAINTS[status];
}

/** "in progress" rather than "in_progress". */
export function statusText(status: TaskStatus): string {
  return status.replace("_", " ");
}

/** `[██████░░░░]  60%` */
export function progressBar(progress: number, width = 10): string {
  const clamped = Math.min(Math.max(progress, 0), 1);
  const filled = Math.round(clamped * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${percent(clamped).padStart(4)}`;
}

export function percent(progress: number): string {
  return `${Math.round(progress * 100)}%`;
}

/** "1 task", "3 tasks". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** A timestamp in local time without the date when it is today: "14:03:07" or "2026-11-20 14:03". */
export function shortTime(iso: string, now = new Date()): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  if (at.toDateString() === now.toDateString()) return time;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time.slice(0, 5)}`;
}
