import { chmod, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { initConfigFile, resolveConfig, setConfigValue, unsetConfigValue } from "../../src/config/index.js";
import { ErrorCode } from "../../src/core/errors.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "apflow-config-write-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string, mode = 0o644): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  await chmod(file, mode);
  return file;
}

async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

describe("setConfigValue / unsetConfigValue", () => {
  it("keeps a YAML file's other keys and comments, and stores numbers and flags typed", async () => {
    const yaml = await file("apflow.config.yaml", "# our settings\nport: 4000 # the API\nhost: 0.0.0.0\n");
    await setConfigValue(yaml, "port", "5000");
    await setConfigValue(yaml, "APFLOW_STDIO_ALLOW_COMMAND", "yes");
    await setConfigValue(yaml, "nodeTags", "gpu,eu");
    expect(await readFile(yaml, "utf8")).toBe(
      "# our settings\nport: 5000 # the API\nhost: 0.0.0.0\nstdio_allow_command: true\nnode_tags: gpu,eu\n",
    );
    expect(resolveConfig({ env: {}, cwd: dir }).config).toMatchObject({
      port: 5000,
      host: "0.0.0.0",
      allowCommand: true,
      nodeTags: ["gpu", "eu"],
    });
  });

  it("keeps a JSON file's other keys and format", async () => {
    const json = await file("settings.json", JSON.stringify({ host: "0.0.0.0", port: 4000 }));
    await setConfigValue(json, "max-parallel-tasks", "50");
    expect(JSON.parse(await readFile(json, "utf8"))).toEqual({ host: "0.0.0.0", port: 4000, max_parallel_tasks: 50 });
    expect(await unsetConfigValue(json, "PORT")).toBe(true);
    expect(await readFile(json, "utf8")).toBe('{\n  "host": "0.0.0.0",\n  "max_parallel_tasks": 50\n}\n');
  });

  it("unsets a key, keeping the others; false when the key or the file is not there", async () => {
    const yaml = await file("apflow.config.yaml", "port: 4000\nhost: 0.0.0.0 # everywhere\n");
    expect(await unsetConfigValue(yaml, "port")).toBe(true);
    expect(await readFile(yaml, "utf8")).toBe("host: 0.0.0.0 # everywhere\n");
    const before = await stat(yaml);
    expect(await unsetConfigValue(yaml, "port")).toBe(false);
    expect((await stat(yaml)).ino).toBe(before.ino);
    expect(await unsetConfigValue(path.join(dir, "none.yaml"), "port")).toBe(false);
    await expect(readdir(dir)).resolves.toEqual(["apflow.config.yaml"]);
  });

  it("validates first: an invalid value writes nothing and a secret is not echoed", async () => {
    const yaml = await file("apflow.config.yaml", "port: 4000\n");
    await expect(setConfigValue(yaml, "port", "high")).rejects.toMatchObject({
      code: ErrorCode.CONFIG_ERROR,
      message: expect.stringMatching(/Invalid value "high" for port \(PORT\): .*Nothing was written/),
    });
    const secret = setConfigValue(yaml, "webhook_secret", "Hunter2short");
    await expect(secret).rejects.toThrow(/webhook_secret .*at least 16 characters/);
    await expect(secret).rejects.not.toThrow(/Hunter2/);
    await expect(setConfigValue(yaml, "prot", "1")).rejects.toThrow(/did you mean port/);
    await expect(setConfigValue(yaml, "config", "x.json")).rejects.toThrow(/cannot set it; use --config/);
    await expect(setConfigValue(yaml, "port", "")).rejects.toThrow(/apflow config unset port/);
    expect(await readFile(yaml, "utf8")).toBe("port: 4000\n");
  });

  it("creates a new file at mode 0600", async () => {
    const json = path.join(dir, "apflow.config.json");
    await setConfigValue(json, "port", "5000");
    expect(JSON.parse(await readFile(json, "utf8"))).toEqual({ port: 5000 });
    expect(await modeOf(json)).toBe(0o600);
  });

  it("makes an existing 0644 file 0600 when it receives a secret, and keeps its mode otherwise", async () => {
    const yaml = await file("apflow.config.yaml", "port: 4000\n", 0o644);
    await setConfigValue(yaml, "host", "0.0.0.0");
    expect(await modeOf(yaml)).toBe(0o644);
    await setConfigValue(yaml, "database_url", "postgresql://app@db/apflow");
    expect(await modeOf(yaml)).toBe(0o644);
    await setConfigValue(yaml, "database_url", "postgresql://app:pw@db/apflow");
    expect(await modeOf(yaml)).toBe(0o600);

    const json = await file("other.json", "{}", 0o644);
    await setConfigValue(json, "api_token", "tok-0123");
    expect(await modeOf(json)).toBe(0o600);
  });

  it("replaces the file atomically: a new inode renamed over it, no temporary file left", async () => {
    const yaml = await file("apflow.config.yaml", "port: 4000\n");
    const before = await stat(yaml);
    await setConfigValue(yaml, "port", "5000");
    expect((await stat(yaml)).ino).not.toBe(before.ino);
    await expect(readdir(dir)).resolves.toEqual(["apflow.config.yaml"]);
  });

  it("edits the file a symlink points to, keeping the link", async () => {
    const real = await file("real.yaml", "port: 4000\n");
    const link = path.join(dir, "apflow.config.yaml");
    await symlink(real, link);
    await setConfigValue(link, "port", "5000");
    expect((await stat(link)).isFile()).toBe(true);
    expect(await readFile(real, "utf8")).toBe("port: 5000\n");
  });
});

describe("initConfigFile", () => {
  it.each(["apflow.config.yaml", "apflow.config.json"])(
    "writes a starter %s at the defaults, mode 0600",
    async (name) => {
      const target = path.join(dir, name);
      await initConfigFile(target);
      expect(await modeOf(target)).toBe(0o600);
      const resolved = resolveConfig({ env: {}, cwd: dir });
      expect(resolved.file).toBe(target);
      const fromFile = resolved.entries.filter((entry) => entry.source === "file").map((entry) => entry.key);
      expect(fromFile.sort()).toEqual(["data_dir", "host", "log_level", "max_parallel_tasks", "port"]);
      expect(resolved.config).toEqual({
        ...resolveConfig({ env: {}, cwd: path.join(dir, "none") }).config,
        configFile: target,
      });
    },
  );

  it("comments the YAML starter", async () => {
    const yaml = path.join(dir, "apflow.config.yaml");
    await initConfigFile(yaml);
    const text = await readFile(yaml, "utf8");
    expect(text).toContain("Layers: defaults < this file < APFLOW_* environment < command-line flags.");
    expect(text).toContain("# GraphQL server port.\nport: 4000\n");
  });

  it("refuses to overwrite a file without force", async () => {
    const yaml = await file("apflow.config.yaml", "port: 5000\n");
    await expect(initConfigFile(yaml)).rejects.toMatchObject({
      code: ErrorCode.CONFIG_ERROR,
      message: expect.stringContaining("--force"),
    });
    expect(await readFile(yaml, "utf8")).toBe("port: 5000\n");
    await initConfigFile(yaml, { force: true });
    expect(await readFile(yaml, "utf8")).toContain("port: 4000");
  });
});
