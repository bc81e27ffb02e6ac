/** `apflow version`. */
import { readFile } from "node:fs/promises";
import { redactUrl } from "../../core/redact.js";
import type { Command } from "../command.js";
import { ExitCode } from "../exit-codes.js";

/** The package's version, from the package.json next to src/. */
async function packageVersion(): Promise<string> {
  const text = await readFile(new URL("../../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

export const versionCommand: Command = {
  name: "version",
  summary: "Show apflow's version, Node's, and the configured storage",
  async run(ctx) {
    const version = await packageVersion();
    // The storage line needs a valid configuration; the version must print even without one.
    let storage: string;
    try {
      const { config } = ctx.resolved();
      storage = config.api.url
        ? `the API at ${config.api.url}`
        : config.databaseUrl
          ? `PostgreSQL at ${redactUrl(config.databaseUrl)}`
          : `embedded PGlite in ${config.dataDir}`;
    } catch {
      storage = "unknown: the configuration is invalid (`apflow config list` says why)";
    }
    if (ctx.out.json) ctx.out.printJson({ version, node: process.version, storage });
    else ctx.out.print(`apflow ${version} (node ${process.version})\nstorage: ${storage}`);
    return ExitCode.OK;
  },
};
