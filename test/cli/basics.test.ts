/** The command line itself: version, help, and usage errors with their exit codes. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/commands/index.js";
import { cli, tempDir } from "./support.js";

let dir: { dir: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

describe("apflow command line", () => {
  it("prints its version, Node's and the configured storage, also as JSON", async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const human = await cli(["version"], { cwd: dir.dir });
    expect(human).toMatchObject({ code: 0, stderr: "" });
    expect(human.stdout).toContain(`apflow ${version} (node ${process.version})`);
    expect(human.stdout).toContain("storage: embedded PGlite in ./.apflow");

    const json = await cli(["version", "--json", "--database-url", "postgresql://u:secret@db/apflow"], {
      cwd: dir.dir,
    });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      version,
      node: process.version,
      storage: "PostgreSQL at postgresql://u:REDACTED@db/apflow",
    });
  });

  it("lists every command, the global options and the exit codes in `apflow help`", async () => {
    const { code, stdout } = await cli(["help"], { cwd: dir.dir });
    expect(code).toBe(0);
    for (const command of [
      "serve",
      "run FILE",
      "tasks watch ID",
      "executors list",
      "config set KEY VALUE",
      "db migrate",
    ]) {
      expect(stdout).toContain(command);
    }
    expect(stdout).toContain("--api-url URL");
    expect(stdout).toMatch(/Exit codes:[\s\S]*\n\s+4 {2}cannot reach the API[\s\S]*\n\s+130 {2}interrupted/);
  });

  it("has every command in the README's section on the apflow command", () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("## The apflow command"), readme.indexOf("## Semantics"));
    for (const command of COMMANDS) {
      const [group, sub] = command.name.split(" ");
      expect(section, `README lacks ${command.name}`).toMatch(
        new RegExp(sub ? `\`${group} [^\`]*${sub}|${sub} ` : `\`${group}`),
      );
    }
  });

  it("shows a command's own options with --help", async () => {
    const { code, stdout } = await cli(["tasks", "list", "--help"], { cwd: dir.dir });
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: apflow tasks list [options]");
    expect(stdout).toMatch(/--status STATUS .*repeatable/);
    expect(stdout).toContain("Global options:");
  });

  it("suggests the command meant, and exits 2, on a typo", async () => {
    const unknown = await cli(["tsks", "list"], { cwd: dir.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "tsks". Did you mean "apflow tasks"?');

    const sub = await cli(["tasks", "lst"], { cwd: dir.dir });
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain('Did you mean "apflow tasks list"?');

    const option = await cli(["tasks", "list", "--limt", "3"], { cwd: dir.dir });
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--limt'. Did you mean \"--limit\"?");
  });

  it("exits 2 on a missing argument or a bad option value, and reports errors as JSON with --json", async () => {
    const missing = await cli(["tasks", "get"], { cwd: dir.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Missing ID: usage is `apflow tasks get ID`.");

    const bad = await cli(["tasks", "list", "--limit", "0", "--json"], { cwd: dir.dir });
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(JSON.parse(bad.stderr)).toEqual({
      error: { code: "VALIDATION_ERROR", message: '--limit "0": must be an integer from 1 to 500.' },
    });

    const group = await cli(["tasks"], { cwd: dir.dir });
    expect(group.code).toBe(2);
    expect(group.stderr).toContain("tasks watch ID");
  });
});
