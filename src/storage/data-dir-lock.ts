/**
 * Embedded PGlite keeps its files in the data directory and must be the only
 * process using them: two processes writing the same files corrupt the database.
 * This lock file says who holds the directory (and where its API listens), so a
 * second process fails with a message that tells the user what to do, and a CLI can
 * find the running server. A lock left by a dead process is replaced.
 */
import { randomBytes } from "node:crypto";
import { promises as fs, readFileSync, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { ApflowError, ErrorCode } from "../core/errors.js";
import type { Logger } from "../core/executor.js";

export const LOCK_FILE_NAME = "apflow.lock";

/** What the lock file holds. */
export interface DataDirLockInfo {
  pid: number;
  hostname: string;
  /** ISO timestamp of when the lock was taken. */
  startedAt: string;
  /** The holder's command line (`process.argv` joined). */
  command: string;
  /** Where the holder's API listens, when it serves one. */
  url?: string;
}

export interface DataDirLock {
  readonly path: string;
  readonly info: DataDirLockInfo;
  /** Removes the lock file if it is still ours; later calls do nothing. */
  release(): Promise<void>;
}

export interface AcquireDataDirLockOptions {
  logger?: Pick<Logger, "warn">;
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function lockPath(dataDir: string): string {
  return path.join(dataDir, LOCK_FILE_NAME);
}

function tempPath(dataDir: string, what: string): string {
  return path.join(dataDir, `${LOCK_FILE_NAME}.${what}.${process.pid}.${randomBytes(4).toString("hex")}`);
}

function parseLock(text: string): DataDirLockInfo | null {
  try {
    const value = JSON.parse(text) as Partial<DataDirLockInfo>;
    if (typeof value.pid !== "number" || typeof value.hostname !== "string") return null;
    return {
      pid: value.pid,
      hostname: value.hostname,
      startedAt: String(value.startedAt ?? "unknown"),
      command: String(value.command ?? "unknown"),
      ...(typeof value.url === "string" ? { url: value.url } : {}),
    };
  } catch {
    return null;
  }
}

/**
 * Locks this process holds or is taking, by file. In-process exclusion is decided
 * here; the file decides between processes.
 */
const heldHere = new Map<string, DataDirLockInfo>();

/**
 * True when another process `pid` runs on this host (EPERM: it exists but belongs
 * to another user). A file naming our own pid that this process does not hold is
 * stale: a container's main process restarts with the same pid (often 1).
 */
function isOtherProcessAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw error;
  }
}

/** The current holder of `dataDir`, or null when it is not locked (or the file is unreadable). */
export async function readDataDirLock(dataDir: string): Promise<DataDirLockInfo | null> {
  const text = await readText(lockPath(dataDir));
  return text === null ? null : parseLock(text);
}

/**
 * Publishes `content` as the lock file atomically: it is written completely to a
 * temporary file created with O_EXCL, then hard-linked to the lock name, which fails
 * with EEXIST when a lock exists. Readers never see a half-written lock.
 */
async function tryCreate(dataDir: string, content: string): Promise<boolean> {
  const temp = tempPath(dataDir, "new");
  await fs.writeFile(temp, content, { flag: "wx" });
  try {
    await fs.link(temp, lockPath(dataDir));
    return true;
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return false;
    if (errnoCode(error) !== "EPERM" && errnoCode(error) !== "ENOTSUP") throw error;
    // A file system without hard links: O_EXCL on the lock name itself.
    try {
      await fs.writeFile(lockPath(dataDir), content, { flag: "wx" });
      return true;
    } catch (fallbackError) {
      if (errnoCode(fallbackError) === "EEXIST") return false;
      throw fallbackError;
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * Removes the stale lock whose text is `staleText`. It is first renamed away (atomic),
 * then checked: if another process replaced the stale lock in the meantime, its live
 * lock is put back instead of being deleted.
 */
async function removeStale(dataDir: string, staleText: string): Promise<void> {
  const moved = tempPath(dataDir, "stale");
  try {
    await fs.rename(lockPath(dataDir), moved);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return;
    throw error;
  }
  const text = await readText(moved);
  if (text !== staleText && text !== null) {
    await fs.link(moved, lockPath(dataDir)).catch(() => undefined);
  }
  await fs.rm(moved, { force: true });
}

function lockedError(dataDir: string, holder: DataDirLockInfo, sameHost: boolean): ApflowError {
  const file = lockPath(dataDir);
  const who = `process ${holder.pid} on ${sameHost ? "this host" : `host ${holder.hostname}`}`;
  const lines = [
    `The data directory ${dataDir} is in use by ${who} (command: ${holder.command}; since ${holder.startedAt}${
      holder.url ? `; API at ${holder.url}` : ""
    }).`,
    "Only one process may use an embedded database. Either:",
    `  - stop process ${holder.pid}, or`,
    "  - point APFLOW_DATA_DIR at another directory, or",
    holder.url
      ? `  - talk to the running server's API at ${holder.url} instead.`
      : "  - talk to the running server instead.",
    sameHost
      ? `If no such process is running, delete ${file}.`
      : `The holder runs on another host, so apflow cannot check it is alive; if it is not, delete ${file}.`,
  ];
  return new ApflowError(ErrorCode.DATA_DIR_LOCKED, lines.join("\n"), { dataDir, holder: { ...holder } });
}

/** Creates the lock file with `content`, replacing a stale one; throws if a live process holds it. */
async function takeFile(
  dir: string,
  mine: DataDirLockInfo,
  content: string,
  options: AcquireDataDirLockOptions,
): Promise<void> {
  for (let round = 0; round <= 5; round++) {
    if (await tryCreate(dir, content)) return;
    const text = await readText(lockPath(dir));
    if (text === null) continue; // released between our attempt and the read
    const holder = parseLock(text);
    const sameHost = holder?.hostname === mine.hostname;
    if (holder && (!sameHost || isOtherProcessAlive(holder.pid))) throw lockedError(dir, holder, sameHost);
    options.logger?.warn(
      holder
        ? `Replacing the stale lock of ${dir}: process ${holder.pid} (${holder.command}) is no longer running.`
        : `Replacing the unreadable lock file ${lockPath(dir)}.`,
      { dataDir: dir, ...(holder ? { holder: { ...holder } } : {}) },
    );
    await removeStale(dir, text);
  }
  throw new ApflowError(ErrorCode.DATA_DIR_LOCKED, `Could not take the lock ${lockPath(dir)}: it keeps changing.`);
}

/**
 * Takes the lock of `dataDir`, creating the directory if missing. Throws
 * DATA_DIR_LOCKED when a live process (this one included) holds it.
 */
export async function acquireDataDirLock(
  dataDir: string,
  info: { url?: string } = {},
  options: AcquireDataDirLockOptions = {},
): Promise<DataDirLock> {
  const dir = path.resolve(dataDir);
  await fs.mkdir(dir, { recursive: true });
  const file = lockPath(dir);
  const inProcess = heldHere.get(file);
  if (inProcess) throw lockedError(dir, inProcess, true);
  const mine: DataDirLockInfo = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    command: process.argv.join(" "),
    ...(info.url ? { url: info.url } : {}),
  };
  const content = `${JSON.stringify(mine, null, 2)}\n`;
  heldHere.set(file, mine); // from here on, a second acquire in this process fails at once
  try {
    await takeFile(dir, mine, content, options);
  } catch (error) {
    heldHere.delete(file);
    throw error;
  }

  // A process that exits without release() still removes its lock (synchronously, on exit).
  const onExit = () => {
    try {
      if (readFileSync(file, "utf8") === content) unlinkSync(file);
    } catch {
      // Nothing to clean up.
    }
  };
  process.on("exit", onExit);
  let released = false;
  return {
    path: file,
    info: mine,
    async release() {
      if (released) return;
      released = true;
      process.off("exit", onExit);
      heldHere.delete(file);
      if ((await readText(file)) === content) await fs.rm(file, { force: true });
    },
  };
}
