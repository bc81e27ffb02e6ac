/** `apflow help` and `apflow <command> --help`, generated from the command table. */
import { type Command, GLOBAL_OPTIONS, type OptionSpec } from "./command.js";
import { EXIT_CODE_HELP } from "./exit-codes.js";

function usage(command: Command): string {
  return ["apflow", command.name, ...(command.args ?? [])].join(" ");
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  const left = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`;
    return [flag, spec.description + (spec.multiple ? " (repeatable)" : "")] as const;
  });
  const width = Math.max(...left.map(([flag]) => flag.length));
  return left.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

/** The overview: every command, the global options, the exit codes. */
export function overview(commands: readonly Command[]): string {
  const names = commands.map((command) => [usage(command).slice("apflow ".length), command.summary] as const);
  const width = Math.max(...names.map(([name]) => name.length));
  return [
    "apflow: task trees with dependencies, run from the command line or served over GraphQL.",
    "",
    "Usage: apflow <command> [arguments] [options]",
    "",
    "Commands:",
    ...names.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Where commands go: with an API URL configured (--api-url, APFLOW_API_URL, api_url) through that",
    "server; otherwise the CLI opens the database itself, or goes through the API of the server that",
    "holds the embedded database. Settings come from flags > environment > apflow.config.json/.yaml >",
    "defaults: `apflow config list` shows each value and where it came from.",
    "",
    "Exit codes:",
    ...EXIT_CODE_HELP.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`),
    "",
    "`apflow <command> --help` shows a command's options.",
  ].join("\n");
}

/** One command's usage, options and details. */
export function commandHelp(command: Command): string {
  const lines = [`Usage: ${usage(command)} [options]`, "", `${command.summary}.`];
  if (command.details) lines.push("", command.details);
  if (command.options && Object.keys(command.options).length > 0) {
    lines.push("", "Options:", ...optionLines(command.options));
  }
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  return lines.join("\n");
}

/** The subcommands of a group ("tasks", "config"...), when only the group was typed. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  const members = commands.filter((command) => command.name.startsWith(`${group} `));
  const names = members.map((command) => [usage(command).slice("apflow ".length), command.summary] as const);
  const width = Math.max(...names.map(([name]) => name.length));
  return [
    `Usage: apflow ${group} <command>`,
    "",
    ...names.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
  ].join("\n");
}
