/**
 * `apflow config get | set | unset | list | path | init`, on the configuration file
 * (--config, APFLOW_CONFIG, or apflow.config.json/.yaml in the working directory).
 * Secrets are always shown masked; there is no flag to show them.
 */
import {
  type ConfigEntry,
  configFilePath,
  getConfigValue,
  initConfigFile,
  setConfigValue,
  settingName,
  unsetConfigValue,
} from "../../config/index.js";
import { ApflowError, ErrorCode } from "../../core/errors.js";
import type { Command, CommandContext } from "../command.js";
import { ExitCode } from "../exit-codes.js";
import { renderTable } from "../output/table.js";

function filePath(ctx: CommandContext): { path: string; exists: boolean } {
  return configFilePath(ctx.configFile ? { file: ctx.configFile } : {});
}

function shown(entry: ConfigEntry): string {
  return entry.value ?? "(unset)";
}

export const configListCommand: Command = {
  name: "config list",
  summary: "Show every setting's effective value and where it came from (secrets masked)",
  details: "Sources, highest first: flag > env (APFLOW_* variables) > file > default.",
  async run(ctx) {
    const resolved = ctx.resolved();
    const out = ctx.out;
    if (out.json) {
      out.printJson({ file: resolved.file, entries: resolved.entries });
      return ExitCode.OK;
    }
    const lines = renderTable<ConfigEntry>(
      [
        { header: "SETTING", value: (e) => e.name },
        { header: "KEY", value: (e) => e.key },
        { header: "VALUE", value: shown, paint: (e) => (e.value === null ? "dim" : undefined), shrink: true },
        { header: "SOURCE", value: (e) => e.source, paint: (e) => (e.source === "default" ? "dim" : "cyan") },
      ],
      resolved.entries,
      out.style,
      out.width,
    );
    for (const line of lines) out.print(line);
    out.note(
      resolved.file
        ? `Configuration file: ${resolved.file}`
        : `No configuration file (it would be ${filePath(ctx).path}).`,
    );
    return ExitCode.OK;
  },
};

export const configGetCommand: Command = {
  name: "config get",
  summary: "Show one setting's effective value and its source",
  args: ["KEY"],
  details: "KEY may be the file key (max_parallel_tasks), the variable (APFLOW_MAX_PARALLEL_TASKS) or a flag name.",
  async run(ctx, { args }) {
    const entry = getConfigValue(ctx.resolved(), args[0]!);
    if (ctx.out.json) ctx.out.printJson(entry);
    else ctx.out.print(`${entry.key} = ${shown(entry)}  ${ctx.out.style.dim(`(${entry.source}; ${entry.name})`)}`);
    return ExitCode.OK;
  },
};

export const configSetCommand: Command = {
  name: "config set",
  summary: "Set a setting in the configuration file (VALUE - reads it from stdin)",
  args: ["KEY", "VALUE"],
  details: [
    "The value is checked first; nothing is written when it is invalid. A file holding a secret is",
    "kept at mode 600. Give secrets as - to read them from stdin, so they stay out of shell history:",
    '  printf %s "$TOKEN" | apflow config set api_token -',
  ].join("\n"),
  async run(ctx, { args }) {
    const [key, given] = args as [string, string];
    const value = given === "-" ? (await readAll(ctx.stdin)).replace(/\r?\n$/, "") : given;
    const { path } = filePath(ctx);
    await setConfigValue(path, key, value);
    const setting = settingName(key);
    if (ctx.out.json) {
      ctx.out.printJson({ file: path, setting });
      return ExitCode.OK;
    }
    ctx.out.print(`Set ${key} in ${path}.`);
    const override = overriddenBy(ctx, setting);
    if (override) ctx.out.note(`Note: ${setting} from the ${override} overrides the file.`);
    return ExitCode.OK;
  },
};

/** Which higher layer hides the file's value of `setting`, if any (nothing to say when the rest is invalid). */
function overriddenBy(ctx: CommandContext, setting: string): string | undefined {
  try {
    const { source } = getConfigValue(ctx.resolved(), setting);
    return source === "env" ? "environment" : source === "flag" ? "command line" : undefined;
  } catch {
    return undefined;
  }
}

export const configUnsetCommand: Command = {
  name: "config unset",
  summary: "Remove a setting from the configuration file",
  args: ["KEY"],
  async run(ctx, { args }) {
    const { path } = filePath(ctx);
    const removed = await unsetConfigValue(path, args[0]!);
    if (ctx.out.json) ctx.out.printJson({ file: path, removed });
    else ctx.out.print(removed ? `Removed ${args[0]} from ${path}.` : `${args[0]} was not set in ${path}.`);
    return ExitCode.OK;
  },
};

export const configPathCommand: Command = {
  name: "config path",
  summary: "Print the configuration file's path (and whether it exists)",
  async run(ctx) {
    const file = filePath(ctx);
    if (ctx.out.json) ctx.out.printJson(file);
    else {
      ctx.out.print(file.path);
      if (!file.exists) ctx.out.note("It does not exist yet: `apflow config init` or `apflow config set` creates it.");
    }
    return ExitCode.OK;
  },
};

export const configInitCommand: Command = {
  name: "config init",
  summary: "Write a starter configuration file with the common settings",
  options: { force: { type: "boolean", description: "Replace an existing file." } },
  details: "The format follows the name: apflow.config.json (default) or --config apflow.config.yaml.",
  async run(ctx, { options }) {
    const { path } = filePath(ctx);
    await initConfigFile(path, { force: options.force === true });
    if (ctx.out.json) ctx.out.printJson({ file: path });
    else ctx.out.print(`Wrote ${path}.`);
    return ExitCode.OK;
  },
};

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  if ((stream as Partial<NodeJS.ReadStream>).isTTY) {
    throw new ApflowError(ErrorCode.VALIDATION_ERROR, "VALUE - reads the value from stdin: pipe it in.");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
