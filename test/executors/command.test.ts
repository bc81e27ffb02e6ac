import { existsSync, realpathSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { type CommandResult, createCommandExecutor } from "../../src/executors/command.js";
import { isAlive } from "../support/processes.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-command-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const command = createCommandExecutor({ allowCommand: true, killGraceMs: 300 });

async function run(inputs: JsonObject, executor = command, ctx = fakeContext()): Promise<CommandResult> {
  return (await executor.execute(inputs, ctx)) as CommandResult;
}

async function failure(inputs: JsonObject, executor = command, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

/** Pids a test script wrote, one a line, once it has written `count` of them. */
async function pidsIn(file: string, count: number): Promise<number[]> {
  let pids: number[] = [];
  await expect
    .poll(async () => {
      const text = await readFile(file, "utf8").catch(() => "");
      pids = text.split("\n").filter(Boolean).map(Number);
      return pids.length;
    })
    .toBe(count);
  return pids;
}

/** A shell script that records its own pid and a background child's pid, then waits. */
const sleeper = (pidFile: string, trap = "") => `${trap} echo $$ > ${pidFile}; sleep 30 & echo $! >> ${pidFile}; wait`;

describe("command_executor", () => {
  it("is refused unless allowed, and runs nothing", async () => {
    const marker = path.join(dir, "should-not-exist");
    const error = await failure({ command: "touch", args: [marker] }, createCommandExecutor());
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("APFLOW_STDIO_ALLOW_COMMAND=1");
    expect(existsSync(marker)).toBe(false);
  });

  it("runs an executable with argv, without a shell", async () => {
    const result = await run({ command: "echo", args: ["hello", "$HOME", "a b"] });
    expect(result).toMatchObject({
      exitCode: 0,
      stdout: "hello $HOME a b\n",
      stderr: "",
      signal: null,
      truncated: false,
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("runs a command line through /bin/sh with shell: true, args as $1..", async () => {
    expect((await run({ command: "echo abc | tr a-z A-Z", shell: true })).stdout).toBe("ABC\n");
    expect((await run({ command: 'echo "$1-$2"', shell: true, args: ["x", "y z"] })).stdout).toBe("x-y z\n");
  });

  it("feeds stdin", async () => {
    expect((await run({ command: "cat", stdin: "line 1\nline 2" })).stdout).toBe("line 1\nline 2");
    expect((await run({ command: "true", stdin: "x".repeat(1_000_000) })).exitCode).toBe(0);
  });

  it("passes env over a minimal environment, not the node's", async () => {
    process.env.APFLOW_TEST_NODE_SECRET = "node-only";
    try {
      const result = await run({
        command: 'echo "$GREETING|$APFLOW_TEST_NODE_SECRET|$PATH"',
        shell: true,
        env: { GREETING: "hi" },
      });
      expect(result.stdout).toBe(`hi||${process.env.PATH}\n`);
    } finally {
      delete process.env.APFLOW_TEST_NODE_SECRET;
    }
  });

  it("runs in cwd, and refuses a cwd that does not exist", async () => {
    expect((await run({ command: "pwd", cwd: dir })).stdout).toBe(`${realpathSync(dir)}\n`);
    const error = await failure({ command: "pwd", cwd: path.join(dir, "missing") });
    expect(error.code).toBe("VALIDATION_ERROR");
  });

  it("fails on a non-zero exit with the exit code and stderr tail", async () => {
    const error = await failure({ command: "echo out; echo oops >&2; exit 3", shell: true });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe("command exited with code 3: oops");
    expect(error.details).toMatchObject({ exitCode: 3, signal: null, stderrTail: "oops\n", stdoutTail: "out\n" });
  });

  it("returns a non-zero exit when allowNonZeroExit is set", async () => {
    const result = await run({ command: "exit 7", shell: true, allowNonZeroExit: true });
    expect(result).toMatchObject({ exitCode: 7, signal: null });
  });

  it("reports a process killed by a signal", async () => {
    const error = await failure({ command: "kill -9 $$", shell: true });
    expect(error.message).toBe("command was killed by SIGKILL");
    expect(error.details).toMatchObject({ exitCode: null, signal: "SIGKILL" });
  });

  it("reports a missing executable, hinting at shell for a command line", async () => {
    const error = await failure({ command: "ls -la /" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe(
      'command not found: "ls -la /" (to run a command line, set shell: true or pass arguments in args)',
    );
  });

  it("truncates output beyond maxOutputBytes and flags it", async () => {
    const result = await run({
      command: "head -c 5000 /dev/zero | tr '\\0' a; echo err >&2",
      shell: true,
      maxOutputBytes: 1000,
    });
    expect(result.stdout).toBe("a".repeat(1000));
    expect(result.stderr).toBe("err\n");
    expect(result.truncated).toBe(true);
  });

  it("keeps draining a large output so the command is not blocked", async () => {
    const result = await run({ command: "head -c 5000000 /dev/zero", shell: true });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBe(1024 * 1024);
    expect(result.truncated).toBe(true);
  });

  it("times out with TIMEOUT and kills the whole process group", async () => {
    const pidFile = path.join(dir, "timeout.pids");
    const started = Date.now();
    const error = await failure({ command: sleeper(pidFile), shell: true, timeoutMs: 300 });
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toBe("command timed out after 300 ms and was stopped");
    expect(Date.now() - started).toBeLessThan(5000);
    const pids = await pidsIn(pidFile, 2);
    for (const pid of pids) await expect.poll(() => isAlive(pid)).toBe(false);
  });

  it("on abort, stops the process group and rejects with the signal's reason", async () => {
    const pidFile = path.join(dir, "abort.pids");
    const controller = new AbortController();
    const pending = command.execute(
      { command: sleeper(pidFile), shell: true },
      fakeContext({ signal: controller.signal }),
    );
    const pids = await pidsIn(pidFile, 2);
    expect(pids.every(isAlive)).toBe(true);
    const reason = new ApflowError("CANCELLED", "cancelled by test");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    for (const pid of pids) await expect.poll(() => isAlive(pid)).toBe(false);
  });

  it("SIGKILLs processes that ignore SIGTERM after the grace period", async () => {
    const pidFile = path.join(dir, "stubborn.pids");
    const controller = new AbortController();
    const pending = command.execute(
      { command: sleeper(pidFile, "trap '' TERM;"), shell: true },
      fakeContext({ signal: controller.signal }),
    );
    const pids = await pidsIn(pidFile, 2);
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    for (const pid of pids) await expect.poll(() => isAlive(pid)).toBe(false);
  });

  it("does not start when the signal is already aborted", async () => {
    const marker = path.join(dir, "aborted-marker");
    const reason = new Error("shutdown");
    const error = await caught(() =>
      command.execute({ command: "touch", args: [marker] }, fakeContext({ signal: AbortSignal.abort(reason) })),
    );
    expect(error).toBe(reason);
    expect(existsSync(marker)).toBe(false);
  });

  it("lists every invalid input at once", async () => {
    const error = await failure({ args: ["a", 1], timeoutMs: -5, env: { A: 1 } });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.args",
      "inputs.command",
      "inputs.env",
      "inputs.timeoutMs",
    ]);
  });
});

describe("command_executor with allowedCommands", () => {
  const limited = createCommandExecutor({ allowCommand: true, allowedCommands: ["echo", process.execPath] });

  it("runs an allowed bare name from the node's PATH, whatever the task's PATH says", async () => {
    const fakeBin = path.join(dir, "bin");
    await mkdir(fakeBin);
    await writeFile(path.join(fakeBin, "echo"), "#!/bin/sh\necho hijacked\n");
    await chmod(path.join(fakeBin, "echo"), 0o755);
    const result = await run({ command: "echo", args: ["real"], env: { PATH: fakeBin } }, limited);
    expect(result.stdout).toBe("real\n");
  });

  it("runs an allowed absolute path", async () => {
    const result = await run({ command: process.execPath, args: ["-e", "process.stdout.write('hi')"] }, limited);
    expect(result.stdout).toBe("hi");
  });

  it("refuses other commands and shell command lines", async () => {
    const other = await failure({ command: "ls" }, limited);
    expect(other.code).toBe("EXECUTOR_FORBIDDEN");
    expect(other.message).toContain('command "ls" is not allowed on this node');
    const shell = await failure({ command: "echo hi", shell: true }, limited);
    expect(shell.code).toBe("EXECUTOR_FORBIDDEN");
    expect(shell.message).toContain("does not list sh");
  });

  it("allows shell command lines when sh is listed", async () => {
    const withShell = createCommandExecutor({ allowCommand: true, allowedCommands: ["sh"] });
    expect((await run({ command: "echo $((1 + 2))", shell: true }, withShell)).stdout).toBe("3\n");
  });
});
