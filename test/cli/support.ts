/**
 * Runs the real `apflow` command (node bin/apflow.mjs) as a child process, in a
 * working directory of the test's choosing and an environment cleaned of anything
 * that could point it at another database or API.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "apflow.mjs");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Written to the command's stdin (then closed). */
  input?: string;
}

/** This environment without apflow settings, test-runner variables or colour forcing. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|APFLOW_|VITEST|NODE_OPTIONS|FORCE_COLOR|NO_COLOR|TEST_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, APFLOW_LOG_LEVEL: "error", ...extra };
}

/** A running `apflow` process, for commands that are stopped or watched while they run. */
export interface CliProcess {
  child: ChildProcess;
  /** Resolves once stdout or stderr (so far or later) matches `pattern`; rejects if the process ends first. */
  output(pattern: RegExp): Promise<string>;
  result: Promise<CliResult>;
}

export function startCli(args: string[], options: CliOptions): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    env: cleanEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stdin!.end(options.input ?? "");
  const result = new Promise<CliResult>((resolve) => {
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    result,
    output(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout) ?? pattern.exec(stderr);
          if (match) {
            listeners.delete(check);
            resolve(match[0]);
          }
        };
        listeners.add(check);
        check();
        void result.then(({ code }) => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          reject(new Error(`apflow ${args.join(" ")} exited (${code}) before ${pattern}:\n${stdout}\n${stderr}`));
        });
      });
    },
  };
}

/** Runs one command to its end. */
export function cli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).result;
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "apflow-cli-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `content` (a string, or a value as JSON) to `dir/name`; returns the path. */
export async function writeTaskFile(dir: string, name: string, content: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The three-task tree of the README: two system probes and an aggregate. */
export const REPORT_TREE = [
  { name: "report", executor: "aggregate_results_executor", dependencies: [{ id: "cpu" }, { id: "memory" }] },
  { name: "cpu", executor: "system_info_executor", parentId: "report", inputs: { resource: "cpu" } },
  { name: "memory", executor: "system_info_executor", parentId: "report", inputs: { resource: "memory" } },
];
