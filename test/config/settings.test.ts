import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loadConfig, SETTINGS, settingName } from "../../src/config/index.js";
import { fileKey, SETTING_NAMES } from "../../src/config/settings.js";
import { ErrorCode } from "../../src/core/errors.js";

describe("configuration", () => {
  it("has safe defaults: embedded storage, host-reaching executors off", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      dataDir: "./.apflow",
      maxParallelTasks: 10,
      leaseMs: 30_000,
      allowCommand: false,
      allowPrivateUrls: false,
      port: 4000,
      host: "127.0.0.1",
    });
  });

  it("converts seconds and flags", () => {
    const config = loadConfig({
      APFLOW_LEASE_DURATION: "2.5",
      APFLOW_STDIO_ALLOW_COMMAND: "1",
      APFLOW_STDIO_ALLOWED_COMMANDS: "echo, ls",
    });
    expect(config.leaseMs).toBe(2_500);
    expect(config.allowCommand).toBe(true);
    expect(config.allowedCommands).toEqual(["echo", "ls"]);
  });

  it("reports every invalid setting at once, naming it and its value", () => {
    let error: unknown;
    try {
      loadConfig({
        APFLOW_MAX_PARALLEL_TASKS: "zero",
        DATABASE_URL: "mysql://app:hunter2@db/x",
        APFLOW_LOG_LEVEL: "loud",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: ErrorCode.CONFIG_ERROR });
    const message = (error as Error).message;
    expect(message).toContain('APFLOW_MAX_PARALLEL_TASKS="zero"');
    expect(message).toContain("must start with postgresql://");
    expect(message).not.toContain("hunter2");
    expect(message).toContain('APFLOW_LOG_LEVEL="loud"');
  });

  it("documents every setting in the README's table", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    for (const name of Object.keys(SETTINGS)) expect(readme, `README lacks ${name}`).toContain(`| \`${name}\``);
  });

  it("accepts a setting's environment name, file key, flag and camelCase forms", () => {
    for (const key of ["APFLOW_MAX_PARALLEL_TASKS", "max_parallel_tasks", "max-parallel-tasks", "maxParallelTasks"]) {
      expect(settingName(key)).toBe("APFLOW_MAX_PARALLEL_TASKS");
    }
    expect(settingName("port")).toBe("PORT");
    expect(settingName("databaseUrl")).toBe("DATABASE_URL");
    expect(settingName("api-token")).toBe("APFLOW_API_TOKEN");
  });

  it("names the closest known keys for an unknown setting", () => {
    expect(() => settingName("max_paralel_tasks")).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_ERROR, message: expect.stringContaining("max_parallel_tasks") }),
    );
    // PORT has no APFLOW_ prefix; the suggestion says so.
    expect(() => settingName("APFLOW_PORT")).toThrow(/did you mean port \(PORT\)/);
  });

  it("gives every setting one file key that names it back", () => {
    const keys = SETTING_NAMES.map(fileKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const name of SETTING_NAMES) expect(settingName(fileKey(name))).toBe(name);
    expect(fileKey("APFLOW_MAX_PARALLEL_TASKS")).toBe("max_parallel_tasks");
    expect(fileKey("DATABASE_URL")).toBe("database_url");
  });
});
