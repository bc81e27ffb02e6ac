/**
 * The CLI against a running server: through APFLOW_API_URL with the bearer token,
 * and through the API of a server that holds the embedded data directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView, TreeEvent } from "../../src/cli/gateway/gateway.js";
import { tsxLoader } from "../support/processes.js";
import { useTestServer } from "../support/server.js";
import { cli, freePort, REPORT_TREE, startCli, tempDir, writeTaskFile } from "./support.js";

const TOKEN = "cli-server-test-token";
const json = <T>(text: string) => JSON.parse(text) as T;

let dir: { dir: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

describe("apflow through APFLOW_API_URL", { timeout: 120_000 }, () => {
  const server = useTestServer("pglite", { app: { apiToken: TOKEN } });
  let env: Record<string, string>;

  beforeAll(() => {
    env = { APFLOW_API_URL: server.url, APFLOW_API_TOKEN: TOKEN };
  });

  it("runs a tree on the server, sending the token over HTTP and WebSocket", async () => {
    const file = await writeTaskFile(dir.dir, "report.json", REPORT_TREE);
    const { code, stdout, stderr } = await cli(["run", file], { cwd: dir.dir, env });
    expect(code).toBe(0);
    expect(stderr).toContain(`in the API at ${server.url}`);
    // The events came over the subscription: one line each, then the final tree.
    expect(stdout).toMatch(/started +cpu/);
    expect(stdout).toContain("✓ report  aggregate_results_executor  completed");
    expect(stdout).toMatch(/✓ 3 tasks completed/);
    // The tree is the server's.
    const [root] = await server.apflow.listTasks({ rootOnly: true, name: "report" });
    expect(root).toMatchObject({ status: "completed" });

    const watched = await cli(["tasks", "watch", root!.id, "--json"], { cwd: dir.dir, env });
    const events = watched.stdout
      .trim()
      .split("\n")
      .map((line) => json<TreeEvent>(line));
    expect(watched.code).toBe(0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

    const listed = json<{ tasks: TaskView[]; total: number }>(
      (await cli(["tasks", "list", "--tree", root!.id, "--json"], { cwd: dir.dir, env })).stdout,
    );
    expect(listed.total).toBe(3);
    expect(listed.tasks.every((t) => t.treeId === root!.id && t.status === "completed")).toBe(true);
  });

  it("sets, lists and exports schedules through the API", async () => {
    const [root] = await server.apflow.listTasks({ rootOnly: true, name: "report" });
    const set = await cli(["schedule", "add", root!.id, "daily", "09:00,17:30", "--missed-runs", "skip", "--json"], {
      cwd: dir.dir,
      env,
    });
    expect(set.code).toBe(0);
    expect(json<TaskView>(set.stdout).schedule).toMatchObject({ type: "daily", missedRuns: "skip", timezone: "UTC" });
    expect((await server.apflow.getTask(root!.id))?.schedule).toMatchObject({ type: "daily", missedRuns: "skip" });

    const listed = json<{ tasks: TaskView[] }>(
      (await cli(["schedule", "list", "--json"], { cwd: dir.dir, env })).stdout,
    );
    expect(listed.tasks.map((t) => t.id)).toEqual([root!.id]);
    const calendar = await cli(["schedule", "export-ical"], { cwd: dir.dir, env });
    expect(calendar.stdout).toContain("SUMMARY:report");
  });

  it("reports the server's validation problems, with exit code 2", async () => {
    const file = await writeTaskFile(dir.dir, "unknown.json", [{ name: "a", executor: "no_such_executor" }]);
    const { code, stderr } = await cli(["run", file], { cwd: dir.dir, env });
    expect(code).toBe(2);
    expect(stderr).toContain('tasks[0].executor: no executor "no_such_executor" is registered');

    // A value GraphQL itself refuses is reported with its path too.
    const typed = await writeTaskFile(dir.dir, "typed.json", [
      { name: "a", executor: "system_info_executor", priority: "high" },
    ]);
    const refused = await cli(["run", typed], { cwd: dir.dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('tasks[0].priority: Int cannot represent non-integer value: "high"');
  });

  it("exits 4 with what to check when the token is wrong or the API unreachable", async () => {
    const refused = await cli(["tasks", "list"], { cwd: dir.dir, env: { ...env, APFLOW_API_TOKEN: "wrong-token" } });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`The apflow API at ${server.url} refused the request`);
    expect(refused.stderr).toContain("APFLOW_API_TOKEN");
    expect(refused.stderr).not.toContain("wrong-token");

    const url = `http://127.0.0.1:${await freePort()}/graphql`;
    const down = await cli(["tasks", "get", "x", "--api-url", url], { cwd: dir.dir });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain(`Cannot reach the apflow API at ${url} (ECONNREFUSED)`);
    expect(down.stderr).toContain("apflow serve");
  });
});

describe("apflow next to a server that holds the embedded database", { timeout: 180_000 }, () => {
  it("goes through the server's API, found in the data directory's lock", async () => {
    const port = await freePort();
    const server = startCli(["serve", "--port", String(port)], { cwd: dir.dir });
    try {
      await server.output(/GraphQL server ready at \S+/);
      const file = await writeTaskFile(dir.dir, "served.json", REPORT_TREE);
      const { code, stdout, stderr } = await cli(["run", file], { cwd: dir.dir });
      expect(code).toBe(0);
      expect(stderr).toContain(
        `is in use by the apflow server (process ${server.child.pid}); going through its API at http://127.0.0.1:${port}/graphql`,
      );
      expect(stdout).toMatch(/✓ 3 tasks completed/);
    } finally {
      server.child.kill("SIGINT");
    }
    const stopped = await server.result;
    expect(stopped.code).toBe(0);
    expect(existsSync(path.join(dir.dir, ".apflow", "apflow.lock"))).toBe(false);
  });

  it("says who holds the database and what to do when the holder serves no API", async () => {
    const holder = await holdLock(path.join(dir.dir, ".apflow"));
    try {
      const { code, stderr } = await cli(["tasks", "list"], { cwd: dir.dir });
      expect(code).toBe(4);
      expect(stderr).toContain(`is in use by process ${holder.pid}`);
      expect(stderr).toContain("serves no API");
      expect(stderr).toContain("APFLOW_API_URL");
    } finally {
      holder.kill("SIGTERM");
    }
  });
});

/** A process holding the data directory's lock without an API (the storage tests' fixture). */
async function holdLock(dataDir: string): Promise<ChildProcess> {
  const fixture = path.resolve("test/storage/fixtures/hold-data-dir-lock.ts");
  const child = spawn(process.execPath, ["--import", tsxLoader, fixture, dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("locked")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  return child;
}
