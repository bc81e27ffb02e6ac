import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ConfigEntry,
  configFilePath,
  getConfigValue,
  loadConfig,
  type ResolveOptions,
  resolveConfig,
  SETTINGS,
} from "../../src/config/index.js";
import { ErrorCode } from "../../src/core/errors.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-config-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

/** Resolves in the temporary directory, with an empty environment unless one is given. */
function resolve(options: ResolveOptions = {}) {
  return resolveConfig({ env: {}, cwd: dir, ...options });
}

/** The CONFIG_ERROR message that resolving throws. */
function errorOf(options: ResolveOptions = {}): string {
  try {
    resolve(options);
  } catch (error) {
    expect(error).toMatchObject({ code: ErrorCode.CONFIG_ERROR });
    return (error as Error).message;
  }
  throw new Error("expected a CONFIG_ERROR");
}

function entryOf(entries: ConfigEntry[], name: string): ConfigEntry {
  return entries.find((entry) => entry.name === name)!;
}

describe("configuration layers", () => {
  it("takes each setting from the highest layer: default < file < env < flag", async () => {
    await file("apflow.config.yaml", "port: 5000\nmax_parallel_tasks: 20\nlog_level: warn\nhost: 0.0.0.0\n");
    const resolved = resolve({
      env: { APFLOW_MAX_PARALLEL_TASKS: "30", APFLOW_LOG_LEVEL: "error", HOST: "10.0.0.1" },
      flags: { APFLOW_LOG_LEVEL: "debug", host: "10.0.0.2" },
    });
    expect(resolved.file).toBe(path.join(dir, "apflow.config.yaml"));
    expect(resolved.config).toMatchObject({
      dataDir: "./.apflow",
      port: 5000,
      maxParallelTasks: 30,
      logLevel: "debug",
      host: "10.0.0.2",
      configFile: resolved.file,
    });
    const sources = Object.fromEntries(resolved.entries.map((entry) => [entry.name, [entry.value, entry.source]]));
    expect(sources).toMatchObject({
      APFLOW_DATA_DIR: ["./.apflow", "default"],
      PORT: ["5000", "file"],
      APFLOW_MAX_PARALLEL_TASKS: ["30", "env"],
      APFLOW_LOG_LEVEL: ["debug", "flag"],
      DATABASE_URL: [null, "default"],
      APFLOW_CONFIG: [resolved.file, "default"],
    });
    expect(resolved.entries.map((entry) => entry.name)).toEqual(Object.keys(SETTINGS));
    expect(getConfigValue(resolved, "max-parallel-tasks")).toMatchObject({ key: "max_parallel_tasks", value: "30" });
  });

  it("reads JSON and YAML files alike, lists included", async () => {
    const json = await file(
      "a.json",
      JSON.stringify({ port: 4100, node_tags: ["gpu", "eu"], stdio_allow_command: true, node_id: "n-1" }),
    );
    const yaml = await file("b.yml", "port: 4100\nnode_tags: [gpu, eu]\nstdio_allow_command: yes\nnode_id: n-1\n");
    const fromJson = resolve({ file: json }).config;
    expect(fromJson).toMatchObject({ port: 4100, nodeTags: ["gpu", "eu"], allowCommand: true, nodeId: "n-1" });
    expect(resolve({ file: yaml }).config).toEqual({ ...fromJson, configFile: yaml });
  });

  it("finds the file from --config, then APFLOW_CONFIG, then the working directory", async () => {
    await file("apflow.config.json", '{ "port": 1 }');
    const named = await file("named.yaml", "port: 2\n");
    const flagged = await file("flagged.json", '{ "port": 3 }');
    expect(resolve().config.port).toBe(1);
    expect(resolve({ env: { APFLOW_CONFIG: "named.yaml" } })).toMatchObject({ file: named, config: { port: 2 } });
    const both = resolve({ env: { APFLOW_CONFIG: named }, file: flagged });
    expect(both).toMatchObject({ file: flagged, config: { port: 3 } });
    expect(entryOf(both.entries, "APFLOW_CONFIG")).toMatchObject({ value: flagged, source: "flag" });
    expect(configFilePath({ env: { APFLOW_CONFIG: named }, cwd: dir })).toEqual({ path: named, exists: true });
    expect(errorOf({ file: "missing.json" })).toMatch(/missing\.json \(from --config\) does not exist/);
    expect(errorOf({ file: "settings.toml" })).toMatch(/must end in \.json, \.yaml or \.yml/);
  });

  it("uses no file when none exists, and would write apflow.config.json", () => {
    expect(resolve()).toMatchObject({ file: null, config: { configFile: undefined, port: 4000 } });
    expect(configFilePath({ env: {}, cwd: dir })).toEqual({
      path: path.join(dir, "apflow.config.json"),
      exists: false,
    });
  });

  it("refuses two default files at once, telling to keep one", async () => {
    await file("apflow.config.json", "{}");
    await file("apflow.config.yaml", "");
    expect(errorOf()).toMatch(/apflow\.config\.json and .*apflow\.config\.yaml.*keep one/);
    expect(() => configFilePath({ env: {}, cwd: dir })).toThrow(/keep one/);
  });

  it("loadConfig reads the file APFLOW_CONFIG names", async () => {
    const named = await file("named.json", '{ "max_parallel_tasks": 7 }');
    expect(loadConfig({ APFLOW_CONFIG: named })).toMatchObject({ maxParallelTasks: 7, configFile: named });
  });
});

describe("configuration problems", () => {
  it("names the file and an unknown key, with the nearest known key, among every other problem", async () => {
    const yaml = await file("apflow.config.yaml", "max_paralel_tasks: 3\nport: high\nconfig: other.json\n");
    const message = errorOf();
    expect(message).toContain("3 problems");
    expect(message).toContain(`${yaml}: unknown key "max_paralel_tasks"; did you mean "max_parallel_tasks"`);
    expect(message).toContain(`PORT="high" from ${yaml}`);
    expect(message).toContain(`"config" cannot be set in a configuration file`);
  });

  it("reports invalid values of every layer together, each with its layer, also when overridden", async () => {
    const json = await file("apflow.config.json", JSON.stringify({ port: 70000, log_level: "info" }));
    const message = errorOf({
      env: { PORT: "5000", APFLOW_LOG_LEVEL: "loud" },
      flags: { APFLOW_MAX_PARALLEL_TASKS: 0 },
    });
    expect(message).toContain("3 problems");
    expect(message).toContain(`PORT=70000 from ${json}:`);
    expect(message).toContain('APFLOW_LOG_LEVEL="loud" from the environment:');
    expect(message).toContain("APFLOW_MAX_PARALLEL_TASKS=0 from the command line:");
  });

  it("rejects values of the wrong type in a file", async () => {
    await file("apflow.config.yaml", "port:\nhost: { name: x }\nnode_tags: [a, [b]]\nexecutor_dirs: ['a,b']\n");
    const message = errorOf();
    expect(message).toContain("4 problems");
    expect(message).toMatch(/PORT from .* must be a string, a number or a boolean, not null/);
    expect(message).toMatch(/HOST from .* not a mapping/);
    expect(message).toMatch(/APFLOW_NODE_TAGS from .* must be a list of strings without commas/);
    expect(message).toMatch(/APFLOW_EXECUTOR_DIRS from .* must be a list of strings without commas/);
  });

  it("says file, line and column of a syntax error, without quoting the file", async () => {
    await file("apflow.config.json", '{\n  "api_token": "tok-hunter2"\n  "port": 1\n}');
    expect(errorOf()).toMatch(/apflow\.config\.json is not valid JSON at line 3, column 3: unexpected "\\""/);
    expect(errorOf()).not.toContain("hunter2");
    await rm(path.join(dir, "apflow.config.json"));
    await file("apflow.config.yaml", "webhook_secret: hunter2hunter2hunter2\nport: 1\nport: 2\n");
    const message = errorOf();
    expect(message).toMatch(/apflow\.config\.yaml is not valid YAML at line 3, column 1: Map keys must be unique/);
    expect(message).not.toContain("hunter2");
  });

  it("requires a mapping at the top of the file", async () => {
    await file("apflow.config.yaml", "- port\n- 4000\n");
    expect(errorOf()).toMatch(/must hold a mapping of setting keys to values .*not a list/);
  });
});

describe("secrets", () => {
  const secretNames = Object.entries(SETTINGS)
    .filter(([, setting]) => "secret" in setting)
    .map(([name]) => name);
  const secretValue = (name: string) =>
    name === "DATABASE_URL" ? "postgresql://app:Hunter2pw@db:5432/apflow" : `Hunter2-${name}-0123456789`;

  it("marks every secret and masks it in entries, from the file and from the environment", async () => {
    expect(secretNames.sort()).toEqual(
      [
        "DATABASE_URL",
        "APFLOW_API_TOKEN",
        "APFLOW_LLM_API_KEY",
        "APFLOW_SMTP_PASSWORD",
        "APFLOW_EMAIL_API_KEY",
        "APFLOW_WEBHOOK_SECRET",
      ].sort(),
    );
    const values = Object.fromEntries(secretNames.map((name) => [name, secretValue(name)]));
    const fromFile = Object.fromEntries(
      secretNames.map((name) => [name.replace(/^APFLOW_/, "").toLowerCase(), values[name]]),
    );
    await file("apflow.config.json", JSON.stringify(fromFile));
    for (const env of [{}, values]) {
      const resolved = resolve({ env });
      expect(JSON.stringify(resolved.entries)).not.toContain("Hunter2");
      for (const name of secretNames) {
        const entry = entryOf(resolved.entries, name);
        expect(entry.secret).toBe(true);
        expect(entry.value).toBe(name === "DATABASE_URL" ? "postgresql://app:REDACTED@db:5432/apflow" : "****");
      }
      // The typed configuration keeps the real values: the engine needs them.
      expect(resolved.config.api.token).toBe(values.APFLOW_API_TOKEN);
    }
  });

  it("masks passwords in other URLs' values too", () => {
    const resolved = resolve({ env: { APFLOW_API_URL: "https://user:Hunter2@api.example/graphql" } });
    expect(entryOf(resolved.entries, "APFLOW_API_URL")).toMatchObject({
      value: "https://user:REDACTED@api.example/graphql",
      secret: false,
    });
  });

  it("never puts a secret in an error message", async () => {
    await file(
      "apflow.config.yaml",
      "webhook_secret: Hunter2short\napi_token: { value: Hunter2tok }\ndatabase_url: 'mysql://app:Hunter2pw@db/x'\n",
    );
    const message = errorOf({
      env: { APFLOW_WEBHOOK_SECRET: "Hunter2also", DATABASE_URL: "postgresql://app:Hunter2 pw@db/x" },
      flags: { webhook_secret: "Hunter2flag" },
    });
    expect(message).toContain("5 problems");
    expect(message).toContain("APFLOW_WEBHOOK_SECRET from the environment: must be at least 16 characters");
    expect(message).toContain("APFLOW_WEBHOOK_SECRET from the command line: must be at least 16 characters");
    expect(message).toContain('DATABASE_URL="mysql://app:REDACTED@db/x" from');
    expect(message).not.toContain("Hunter2");
    // A DATABASE_URL too malformed to parse may still hold a password: masked whole.
    expect(errorOf({ env: { DATABASE_URL: "mysql://app:Hunter2 pw@db/x" } })).toContain('DATABASE_URL="****"');
  });
});
