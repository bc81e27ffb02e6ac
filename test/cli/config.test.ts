/** `apflow config ...` on the layered configuration: sources, masking, the file's mode. */
import { readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, tempDir } from "./support.js";

interface Entry {
  name: string;
  key: string;
  value: string | null;
  source: string;
  secret: boolean;
}

let dir: { dir: string; remove(): Promise<void> };
const TOKEN = "cli-test-token-4f9a";

beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

describe("apflow config", { timeout: 120_000 }, () => {
  it("sets values in the file, and shows each value with the layer it came from", async () => {
    const file = path.join(dir.dir, "apflow.config.json");
    const set = await cli(["config", "set", "max-parallel-tasks", "7"], { cwd: dir.dir });
    expect(set).toMatchObject({ code: 0, stdout: `Set max-parallel-tasks in ${file}.\n` });
    // A secret from stdin, so it stays out of the command line.
    expect((await cli(["config", "set", "api_token", "-"], { cwd: dir.dir, input: `${TOKEN}\n` })).code).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ max_parallel_tasks: 7, api_token: TOKEN });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const listed = await cli(["config", "list", "--json", "--data-dir", "/srv/apflow"], {
      cwd: dir.dir,
      env: { APFLOW_LOG_LEVEL: "warn" },
    });
    expect(listed.code).toBe(0);
    const { file: shownFile, entries } = JSON.parse(listed.stdout) as { file: string; entries: Entry[] };
    expect(shownFile).toBe(file);
    const entry = (name: string) => entries.find((e) => e.name === name);
    expect(entry("APFLOW_MAX_PARALLEL_TASKS")).toMatchObject({ value: "7", source: "file" });
    expect(entry("APFLOW_LOG_LEVEL")).toMatchObject({ value: "warn", source: "env" });
    expect(entry("APFLOW_DATA_DIR")).toMatchObject({ value: "/srv/apflow", source: "flag" });
    expect(entry("PORT")).toMatchObject({ value: "4000", source: "default" });
    expect(entry("APFLOW_API_TOKEN")).toMatchObject({ source: "file", secret: true });
    expect(listed.stdout).not.toContain(TOKEN);

    const table = await cli(["config", "list"], { cwd: dir.dir });
    expect(table.stdout).toMatch(/^APFLOW_MAX_PARALLEL_TASKS +max_parallel_tasks +7 +file$/m);
    expect(table.stdout).toMatch(/^APFLOW_API_TOKEN +api_token +\*+ +file$/m);
    expect(table.stdout + table.stderr).not.toContain(TOKEN);
  });

  it("gets one value, unsets it, and says what to do with an unknown key", async () => {
    const get = await cli(["config", "get", "APFLOW_MAX_PARALLEL_TASKS"], { cwd: dir.dir });
    expect(get.stdout).toBe("max_parallel_tasks = 7  (file; APFLOW_MAX_PARALLEL_TASKS)\n");

    const unset = await cli(["config", "unset", "max_parallel_tasks", "--json"], { cwd: dir.dir });
    expect(JSON.parse(unset.stdout)).toEqual({ file: path.join(dir.dir, "apflow.config.json"), removed: true });
    const after = await cli(["config", "get", "max_parallel_tasks", "--json"], { cwd: dir.dir });
    expect(JSON.parse(after.stdout)).toMatchObject({ value: "10", source: "default" });

    const unknown = await cli(["config", "get", "max_paralel_tasks"], { cwd: dir.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown setting "max_paralel_tasks"; did you mean max_parallel_tasks');
  });

  it("reads only the file --config names: a broken file in the working directory does not matter", async () => {
    const work = await tempDir();
    try {
      await writeFile(path.join(work.dir, "apflow.config.json"), "{ not json");
      const other = path.join(work.dir, "other.yaml");
      await writeFile(other, `data_dir: ${path.join(work.dir, "data")}\n`);
      // executors list opens the embedded database, so createApflow sees the resolved configuration.
      const listed = await cli(["executors", "list", "--json", "--config", other], { cwd: work.dir });
      expect(listed.stderr).toBe("");
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toEqual(
        expect.arrayContaining([expect.objectContaining({ id: "rest_executor" })]),
      );
    } finally {
      await work.remove();
    }
  });
});
