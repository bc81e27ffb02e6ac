/**
 * Which way a command goes. An API URL in the configuration (APFLOW_API_URL,
 * --api-url, api_url) sends everything through that server. Otherwise the CLI opens
 * the storage itself; when a server already holds the embedded database, its lock
 * file says where that server's API listens, and the CLI goes there instead (two
 * processes on one embedded database would corrupt it).
 */
import type { ApflowConfig } from "../../config/index.js";
import { ApflowError, ErrorCode, isApflowError } from "../../core/errors.js";
import type { DataDirLockInfo } from "../../storage/data-dir-lock.js";
import type { Output } from "../output/output.js";
import type { Gateway } from "./gateway.js";

export interface OpenGatewayOptions {
  /**
   * Start an engine when the CLI opens the storage itself: "created" (`run` executes
   * its tree here, and only the trees this process creates: on PostgreSQL other
   * nodes' work is not the CLI's to take), "embedded" (every queued task, only on the
   * embedded database, where no other process can be running tasks), or "never"
   * (reads and writes only).
   */
  runTasks: "created" | "embedded" | "never";
}

// The gateways are imported when needed: the engine and the GraphQL client each take a
// second to load, which `apflow help` or `apflow config` should not pay.
export async function openGateway(config: ApflowConfig, out: Output, options: OpenGatewayOptions): Promise<Gateway> {
  if (config.api.url) return apiGateway(config.api.url, config.api.token);
  const { LocalGateway } = await import("./local.js");
  const runTasks = options.runTasks === "created" || (options.runTasks === "embedded" && !config.databaseUrl);
  try {
    return await LocalGateway.open(config, { runTasks, onlyCreatedTrees: options.runTasks === "created" });
  } catch (error) {
    if (!isApflowError(error, ErrorCode.DATA_DIR_LOCKED)) throw error;
    const holder = error.details?.holder as DataDirLockInfo | undefined;
    if (!holder?.url) throw lockedWithoutApi(config.dataDir, holder, error);
    out.note(
      `The embedded database in ${config.dataDir} is in use by the apflow server (process ${holder.pid}); ` +
        `going through its API at ${holder.url}.`,
    );
    return apiGateway(holder.url, config.api.token);
  }
}

async function apiGateway(url: string, token: string | undefined): Promise<Gateway> {
  const { ApiGateway } = await import("./api.js");
  return new ApiGateway(url, token);
}

function lockedWithoutApi(dataDir: string, holder: DataDirLockInfo | undefined, cause: ApflowError): ApflowError {
  if (!holder) return cause;
  return new ApflowError(
    ErrorCode.DATA_DIR_LOCKED,
    [
      `The embedded database in ${dataDir} is in use by process ${holder.pid} on ${holder.hostname} ` +
        `(${holder.command}), which serves no API the CLI could use.`,
      "Only one process may open an embedded database. Either:",
      `  - wait for process ${holder.pid} to finish, or stop it, or`,
      "  - start the server with `apflow serve` instead, and the CLI will go through its API, or",
      "  - set APFLOW_API_URL (or --api-url) to a server that uses this database.",
    ].join("\n"),
    { dataDir, holder: { ...holder } },
  );
}
