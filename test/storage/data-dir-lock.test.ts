// The data-directory lock, across a real second process: a live holder blocks with
// a message naming it, a dead one's lock is replaced, release removes only our lock.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ErrorCode } from "../../src/core/errors.js";
import { acquireDataDirLock, LOCK_FILE_NAME, readDataDirLock } from "../../src/storage/data-dir-lock.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const holderScript = path.join(here, "fixtures", "hold-data-dir-lock.ts");
const packageRoot = path.resolve(here, "..", "..");

let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-lock-"));
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/** Starts a process that holds the lock of `dataDir`; resolves once it does. */
async function startHolder(dataDir: string, url?: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", holderScript, dataDir, ...(url ? [url] : [])], {
    cwd: packageRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holder did not take the lock: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("locked\n")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited with ${code}: ${output}`));
    });
  });
  return child;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = once(child, "exit");
  child.kill(signal);
  await exited;
}

describe("acquireDataDirLock", () => {
  it("creates the directory and a lock file describing this process", async () => {
    const nested = path.join(dir, "a", "b");
    const lock = await acquireDataDirLock(nested, { url: "http://127.0.0.1:8000" });

    const info = await readDataDirLock(nested);
    expect(info).toMatchObject({ pid: process.pid, url: "http://127.0.0.1:8000" });
    expect(info?.command).toBe(process.argv.join(" "));
    expect(Number.isNaN(Date.parse(info?.startedAt ?? ""))).toBe(false);
    expect(lock.path).toBe(path.join(nested, LOCK_FILE_NAME));
    await lock.release();
  });

  it("refuses a second lock in the same process", async () => {
    const lock = await acquireDataDirLock(dir);
    const error = await acquireDataDirLock(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED });
    expect((error as Error).message).toContain(`process ${process.pid}`);
    await lock.release();
  });

  it("refuses while another live process holds the directory, naming it and what to do", async () => {
    const child = await startHolder(dir, "http://127.0.0.1:4321");
    expect(await readDataDirLock(dir)).toMatchObject({ pid: child.pid, url: "http://127.0.0.1:4321" });

    const error = await acquireDataDirLock(dir).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: "ApflowError", code: ErrorCode.DATA_DIR_LOCKED });
    const message = (error as Error).message;
    expect(message).toContain(`process ${child.pid}`);
    expect(message).toContain("hold-data-dir-lock");
    expect(message).toContain("http://127.0.0.1:4321");
    expect(message).toContain("APFLOW_DATA_DIR");
    expect(message).toContain(`stop process ${child.pid}`);

    // Once the holder stops (and releases), the directory is free.
    await stop(child, "SIGTERM");
    expect(await readDataDirLock(dir)).toBeNull();
    const lock = await acquireDataDirLock(dir);
    await lock.release();
  });

  it("replaces the stale lock of a process that died, with a warning", async () => {
    const child = await startHolder(dir);
    await stop(child, "SIGKILL");
    expect(await readDataDirLock(dir)).toMatchObject({ pid: child.pid });

    const warn = vi.fn();
    const lock = await acquireDataDirLock(dir, {}, { logger: { warn } });

    expect(await readDataDirLock(dir)).toMatchObject({ pid: process.pid });
    expect(warn).toHaveBeenCalledOnce();
    expect(warn.mock.calls[0]?.[0]).toContain(`process ${child.pid}`);
    await lock.release();
  });

  it("lets only one of two concurrent acquires in one process win", async () => {
    const results = await Promise.allSettled([acquireDataDirLock(dir), acquireDataDirLock(dir)]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost[0]?.reason).toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED });
    await won[0]?.value.release();
  });

  it("treats a lock naming this pid that this process does not hold as stale (a restarted container)", async () => {
    const previousRun = { pid: process.pid, hostname: hostname(), startedAt: "2020-01-01T00:00:00.000Z", command: "x" };
    await writeFile(path.join(dir, LOCK_FILE_NAME), JSON.stringify(previousRun));
    const lock = await acquireDataDirLock(dir);
    expect(await readDataDirLock(dir)).toMatchObject({ pid: process.pid, command: process.argv.join(" ") });
    await lock.release();
  });

  it("replaces an unreadable lock file", async () => {
    await writeFile(path.join(dir, LOCK_FILE_NAME), "not json");
    const lock = await acquireDataDirLock(dir);
    expect(await readDataDirLock(dir)).toMatchObject({ pid: process.pid });
    await lock.release();
  });
});

describe("release", () => {
  it("removes the lock file, once; a later acquire succeeds", async () => {
    const lock = await acquireDataDirLock(dir);
    await lock.release();
    await lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE_NAME))).toBe(false);
    expect(await readDataDirLock(dir)).toBeNull();
    await (await acquireDataDirLock(dir)).release();
  });

  it("leaves a lock file that is no longer ours", async () => {
    const lock = await acquireDataDirLock(dir);
    const file = path.join(dir, LOCK_FILE_NAME);
    const someoneElse = JSON.stringify({ pid: 1, hostname: "elsewhere", startedAt: "x", command: "other" });
    await writeFile(file, someoneElse);

    await lock.release();

    expect(await readFile(file, "utf8")).toBe(someoneElse);
  });
});
