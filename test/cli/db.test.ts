/** `apflow db migrate` on a fresh PostgreSQL database. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactUrl } from "../../src/core/redact.js";
import { readMigrations } from "../../src/storage/migrate.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { cli, tempDir } from "./support.js";

let dir: { dir: string; remove(): Promise<void> };
let database: TestDatabase;
beforeAll(async () => {
  dir = await tempDir();
  database = await createTestDatabase({ migrated: false });
});
afterAll(async () => {
  await database.drop();
  await dir.remove();
});

describe("apflow db migrate", { timeout: 120_000 }, () => {
  it("applies every migration once, says which, and then that there is nothing to do", async () => {
    const names = (await readMigrations()).map((m) => m.name);
    // The URL is shown without its password (the throwaway server of CI has one).
    const shown = redactUrl(database.url);
    const first = await cli(["db", "migrate", "--database-url", database.url], { cwd: dir.dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      [
        `PostgreSQL at ${shown}: applied ${names.length} migration${names.length === 1 ? "" : "s"}:`,
        ...names.map((name) => `  ${name}`),
        "",
      ].join("\n"),
    );

    const again = await cli(["db", "migrate", "--json"], { cwd: dir.dir, env: { DATABASE_URL: database.url } });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ database: `PostgreSQL at ${shown}`, applied: [] });
  });
});
