/**
 * `apflow run` against a PostgreSQL database that others share: the CLI process
 * joins as a worker only for the tree it created, and leaves other queued work to
 * the servers (before, it claimed whatever was ready, and abandoned it on exit).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Apflow, createApflow } from "../../src/index.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { cli, REPORT_TREE, tempDir, writeTaskFile } from "./support.js";

let dir: { dir: string; remove(): Promise<void> };
let database: TestDatabase;
let other: Apflow;

beforeAll(async () => {
  dir = await tempDir();
  database = await createTestDatabase();
  // Another client's tree, queued and waiting for a server: no engine here.
  other = await createApflow({ databaseUrl: database.url, runTasks: false, logLevel: "silent" });
});
afterAll(async () => {
  await other.close();
  await database.drop();
  await dir.remove();
});

describe("apflow run on PostgreSQL", { timeout: 180_000 }, () => {
  it("runs the tree it created and none of the others queued there", async () => {
    const queued = await other.createTree(
      [{ name: "someone else's", executor: "system_info_executor", inputs: { resource: "cpu" } }],
      { execute: true },
    );
    const file = await writeTaskFile(dir.dir, "report.json", REPORT_TREE);
    const { code, stdout } = await cli(["run", file, "--json"], {
      cwd: dir.dir,
      env: { DATABASE_URL: database.url },
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).tasks.map((t: { status: string }) => t.status)).toEqual([
      "completed",
      "completed",
      "completed",
    ]);
    expect(await other.tasks.requireTask(queued.id)).toMatchObject({ status: "pending", attempt: 0 });
    const events = await other.tasks.events(queued.treeId, 0, 100);
    expect(events.map((e) => e.type)).toEqual(["created"]);
  });
});
