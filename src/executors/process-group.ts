/**
 * Signals for a child started with `detached: true` (its own process group), so that
 * everything it started stops with it. command_executor and the MCP stdio transport
 * both stop their children this way.
 */
import type { ChildProcess } from "node:child_process";

/** Sends `signal` to the child's whole process group (to the child alone on Windows). */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === "win32") child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Whether any process of the child's group is still running (always false on Windows). */
export function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined || process.platform === "win32") return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}
