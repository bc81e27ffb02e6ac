/**
 * Child processes of the tests: TypeScript scripts started under tsx in a clean
 * environment, their output, their exit, and whether a pid still runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

// An absolute URL, so a child started in another directory still finds tsx.
export const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** This environment without anything that could point a child at another database or configuration. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL$|APFLOW_|VITEST|NODE_OPTIONS$|PORT$|HOST$|TEST_WORK)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Starts `node --import tsx <script> <args>` with stdout and stderr piped (no wrapper
 * process: the child's pid is the node process running the script).
 */
export function spawnTsx(
  script: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): ChildProcess & { pid: number } {
  const child = spawn(process.execPath, ["--import", tsxLoader, script, ...args], {
    ...options,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  return child as ChildProcess & { pid: number };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process ended. */
  at: number;
}

export function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
}

/**
 * Keeps a child's stdout and stderr (returned, for failure messages) and hands every
 * JSON line of its stdout to `onMessage`; other lines are the child's own logging.
 */
export function captureOutput(child: ChildProcess, onMessage: (message: unknown) => void): () => string {
  let text = "";
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const s = chunk.toString();
    text += s;
    pending += s;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        continue; // Not one of ours.
      }
      onMessage(message);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

/** Alive and not a zombie (a reparented zombie may wait long for a reaper in a container). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
