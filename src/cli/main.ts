/**
 * The `apflow` command line: finds the command in the table, parses its options
 * with node:util parseArgs, runs it, and turns any error into a message on stderr
 * and a documented exit code. `runCli` returns the exit code; bin/apflow.mjs exits
 * with it.
 */
import { parseArgs } from "node:util";
import { resolveConfig } from "../config/index.js";
import { ApflowError, ErrorCode, errorMessage, isApflowError } from "../core/errors.js";
import { type Command, type CommandContext, GLOBAL_OPTIONS, type OptionSpec, type OptionValues } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { ExitCode, exitCodeOf } from "./exit-codes.js";
import type { Gateway } from "./gateway/gateway.js";
import { openGateway } from "./gateway/open.js";
import { commandHelp, groupHelp, overview } from "./help.js";
import { Output } from "./output/output.js";
import { closest } from "./suggest.js";

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const processIo: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** Runs one command line (without "node apflow"); resolves with the exit code once the output is written. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  try {
    return await run(argv, io);
  } finally {
    await Promise.all(
      [io.stdout, io.stderr].map((stream) => new Promise<void>((resolve) => stream.write("", () => resolve()))),
    );
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const early = new Output({ json: argv.includes("--json"), noColor: argv.includes("--no-color"), ...io });
  let found: { command: Command; rest: string[] } | { help: string; code: ExitCode };
  try {
    found = findCommand(argv);
  } catch (error) {
    return report(early, error);
  }
  if ("help" in found) {
    (found.code === ExitCode.OK ? io.stdout : io.stderr).write(`${found.help}\n`);
    return found.code;
  }
  const { command, rest } = found;
  let args: string[];
  let options: OptionValues;
  try {
    ({ args, options } = parseCommandLine(command, rest));
  } catch (error) {
    return report(early, error);
  }
  if (options.help) {
    io.stdout.write(`${commandHelp(command)}\n`);
    return ExitCode.OK;
  }
  const out = new Output({ json: options.json === true, noColor: options["no-color"] === true, ...io });
  const { ctx, close } = context(command, options, out, io);
  try {
    return await command.run(ctx, { args, options });
  } catch (error) {
    return report(out, error);
  } finally {
    await close();
  }
}

/** The command's context, and what closes the gateway it opened (if any). */
function context(
  command: Command,
  options: OptionValues,
  out: Output,
  io: CliIo,
): { ctx: CommandContext; close(): Promise<void> } {
  const configFile = typeof options.config === "string" ? options.config : undefined;
  const flags: Record<string, string | boolean> = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options })) {
    const value = options[name];
    if (spec.setting && (typeof value === "string" || typeof value === "boolean")) flags[spec.setting] = value;
  }
  let resolved: ReturnType<typeof resolveConfig> | undefined;
  let gateway: Promise<Gateway> | undefined;
  const ctx: CommandContext = {
    out,
    stdin: io.stdin,
    configFile,
    resolved: () => {
      resolved ??= resolveConfig({ ...(configFile ? { file: configFile } : {}), flags });
      return resolved;
    },
    config: () => {
      const { config, entries } = ctx.resolved();
      // The engine's info logs (started, stopped) are noise around a command's output.
      const logLevelSet = entries.some((entry) => entry.name === "APFLOW_LOG_LEVEL" && entry.source !== "default");
      return logLevelSet ? config : { ...config, logLevel: "warn" };
    },
    gateway: (gatewayOptions = { runTasks: "never" }) => {
      gateway ??= openGateway(ctx.config(), out, gatewayOptions);
      return gateway;
    },
  };
  const close = async () => {
    await gateway?.then((opened) => opened.close()).catch(() => undefined);
  };
  return { ctx, close };
}

/**
 * The command named by the first one or two words (global options may come
 * before them), or the help to print instead.
 */
function findCommand(argv: string[]): { command: Command; rest: string[] } | { help: string; code: ExitCode } {
  const words: number[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const token = argv[i]!;
    if (token === "--") break;
    if (token.startsWith("-")) {
      // A global option's value is not a command word.
      const spec = GLOBAL_OPTIONS[token.replace(/^--?/, "")];
      if (spec?.type === "string" && !token.includes("=")) i++;
      continue;
    }
    words.push(i);
  }
  const first = words[0] === undefined ? undefined : argv[words[0]];
  if (first === undefined || first === "help") {
    const topic = words[1] === undefined ? undefined : argv[words[1]];
    if (first === "help" && topic !== undefined)
      return helpFor(argv.slice(words[1]!).filter((w) => !w.startsWith("-")));
    return { help: overview(COMMANDS), code: ExitCode.OK };
  }
  const second = words[1] === undefined ? undefined : argv[words[1]];
  const pair = second === undefined ? undefined : COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (pair) return { command: pair, rest: argv.filter((_, i) => i !== words[0] && i !== words[1]) };
  const single = COMMANDS.find((c) => c.name === first);
  if (single) return { command: single, rest: argv.filter((_, i) => i !== words[0]) };
  if (COMMANDS.some((c) => c.name.startsWith(`${first} `))) {
    const wantsHelp = argv.includes("--help") || argv.includes("-h");
    // `apflow tasks` alone is incomplete (exit 2); `apflow tasks --help` asked for the list.
    if (second === undefined || wantsHelp) {
      return { help: groupHelp(first, COMMANDS), code: wantsHelp ? ExitCode.OK : ExitCode.USAGE };
    }
    const members = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.split(" ")[1]!);
    throw usageError(
      `Unknown command "apflow ${first} ${second}".${suggestion(second, members, `apflow ${first} `)} ` +
        `\`apflow ${first}\` lists its commands.`,
    );
  }
  const names = [...new Set([...COMMANDS.map((c) => c.name.split(" ")[0]!), "help"])];
  throw usageError(
    `Unknown command "${first}".${suggestion(first, names, "apflow ")} \`apflow help\` lists the commands.`,
  );
}

function helpFor(topic: string[]): { help: string; code: ExitCode } {
  const command =
    COMMANDS.find((c) => c.name === topic.slice(0, 2).join(" ")) ?? COMMANDS.find((c) => c.name === topic[0]);
  if (command) return { help: commandHelp(command), code: ExitCode.OK };
  if (topic[0] && COMMANDS.some((c) => c.name.startsWith(`${topic[0]} `))) {
    return { help: groupHelp(topic[0], COMMANDS), code: ExitCode.OK };
  }
  return { help: `No help for "${topic.join(" ")}".\n\n${overview(COMMANDS)}`, code: ExitCode.USAGE };
}

function suggestion(typed: string, candidates: string[], prefix: string): string {
  const near = closest(typed, candidates);
  return near ? ` Did you mean "${prefix}${near}"?` : "";
}

function usageError(message: string): ApflowError {
  return new ApflowError(ErrorCode.VALIDATION_ERROR, message);
}

/** The command's arguments and options, strictly: unknown options and wrong counts are usage errors. */
function parseCommandLine(command: Command, rest: string[]): { args: string[]; options: OptionValues } {
  const specs: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: Object.fromEntries(
        Object.entries(specs).map(([name, spec]) => [
          name,
          {
            type: spec.type,
            ...(spec.short ? { short: spec.short } : {}),
            ...(spec.multiple ? { multiple: true } : {}),
          },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(errorMessage(error))?.[1];
    const near = unknown ? closest(unknown.replace(/^-+/, ""), Object.keys(specs)) : undefined;
    throw usageError(
      `${errorMessage(error).replace(/\. To specify a positional argument.*$/s, ".")}` +
        `${near ? ` Did you mean "--${near}"?` : ""} \`apflow ${command.name} --help\` lists its options.`,
    );
  }
  const options = parsed.values as OptionValues;
  if (options.help) return { args: parsed.positionals, options };
  const declared = command.args ?? [];
  const required = declared.filter((a) => !a.startsWith("[")).length;
  if (parsed.positionals.length < required || parsed.positionals.length > declared.length) {
    const missing = declared.slice(parsed.positionals.length).filter((a) => !a.startsWith("["));
    throw usageError(
      parsed.positionals.length < required
        ? `Missing ${missing.join(" ")}: usage is \`apflow ${command.name} ${declared.join(" ")}\`.`
        : `Too many arguments (${parsed.positionals.slice(declared.length).join(" ")}): usage is ` +
            `\`apflow ${[command.name, ...declared].join(" ")}\`.`,
    );
  }
  return { args: parsed.positionals, options };
}

/** Prints the error (human or JSON, on stderr) and returns its exit code. */
function report(out: Output, error: unknown): ExitCode {
  const code = exitCodeOf(error);
  const message = errorMessage(error);
  if (out.json) {
    out.error(
      JSON.stringify({
        error: {
          code: isApflowError(error) ? error.code : "UNEXPECTED",
          message,
          ...(isApflowError(error) && error.problems.length > 0 ? { problems: error.problems } : {}),
        },
      }),
    );
  } else {
    out.error(`${out.errorStyle.red("error:")} ${message}`);
    if (!isApflowError(error)) out.error("This is unexpected; please report it with the command you ran.");
  }
  return code;
}
