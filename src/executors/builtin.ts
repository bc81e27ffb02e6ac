/**
 * Every executor apflow ships, configured from the node's settings in one place.
 * Those that reach the host (commands, containers, private addresses) stay off
 * until their setting turns them on; apflow.ts blocks them with the reason.
 */
import type { ApflowConfig } from "../config/index.js";
import type { Executor } from "../core/executor.js";
import type { ExecutorInfo } from "../core/executor-registry.js";
import { aggregateResultsExecutor } from "./aggregate-results.js";
import { createApflowApiExecutor } from "./apflow-api.js";
import { createCommandExecutor } from "./command.js";
import { createBatchCrewExecutor, createCrewExecutor } from "./crew.js";
import { createDockerExecutor } from "./docker.js";
import { createGenerateExecutor } from "./generate.js";
import { createGrpcExecutor } from "./grpc.js";
import { createLlmExecutor } from "./llm.js";
import { createMcpExecutor } from "./mcp.js";
import { createRestExecutor } from "./rest.js";
import { createScrapeExecutor } from "./scrape.js";
import { createSendEmailExecutor } from "./send-email.js";
import { createSshExecutor } from "./ssh.js";
import { systemInfoExecutor } from "./system-info.js";
import { createWebSocketExecutor } from "./websocket.js";

/** The settings the built-in executors read (a subset of ApflowConfig). */
export type BuiltinExecutorOptions = Partial<
  Pick<
    ApflowConfig,
    | "allowCommand"
    | "allowedCommands"
    | "allowPrivateUrls"
    | "websocketAllowPrivateUrls"
    | "grpcAllowPrivateUrls"
    | "sshAllowPrivateHosts"
    | "sshAllowUnknownHostKeys"
    | "docker"
    | "llm"
    | "email"
  >
> & {
  /** What generate_executor offers the model (the node's registry). */
  listExecutors?: () => ExecutorInfo[];
};

export function builtinExecutors(options: BuiltinExecutorOptions = {}): Executor[] {
  const llm = {
    ...(options.llm?.baseUrl ? { baseUrl: options.llm.baseUrl } : {}),
    ...(options.llm?.apiKey ? { apiKey: options.llm.apiKey } : {}),
    ...(options.llm?.model ? { model: options.llm.model } : {}),
    allowPrivateUrls: options.allowPrivateUrls ?? false,
  };
  return [
    aggregateResultsExecutor,
    systemInfoExecutor,
    createCommandExecutor({ allowCommand: options.allowCommand, allowedCommands: options.allowedCommands }),
    createRestExecutor({ allowPrivateUrls: options.allowPrivateUrls }),
    createWebSocketExecutor({ allowPrivateUrls: options.websocketAllowPrivateUrls }),
    createGrpcExecutor({ allowPrivateUrls: options.grpcAllowPrivateUrls }),
    createSshExecutor({
      allowPrivateHosts: options.sshAllowPrivateHosts,
      allowUnknownHostKeys: options.sshAllowUnknownHostKeys,
    }),
    createDockerExecutor({
      ...(options.docker?.host
        ? options.docker.host.startsWith("tcp://") || options.docker.host.startsWith("http")
          ? { host: options.docker.host }
          : { socketPath: options.docker.host }
        : {}),
      allowHostMounts: options.docker?.allowHostMounts ?? false,
      ...(options.docker?.allowedMountPaths ? { allowedMountPaths: options.docker.allowedMountPaths } : {}),
    }),
    createMcpExecutor({
      allowStdio: options.allowCommand,
      allowedCommands: options.allowedCommands,
      allowPrivateUrls: options.allowPrivateUrls,
    }),
    createLlmExecutor(llm),
    createCrewExecutor(llm),
    createBatchCrewExecutor(llm),
    createGenerateExecutor({ ...llm, executors: options.listExecutors ?? (() => []) }),
    createSendEmailExecutor({
      ...(options.email?.smtp ? { smtp: options.email.smtp } : {}),
      ...(options.email?.api ? { http: options.email.api } : {}),
      ...(options.email?.from ? { from: options.email.from } : {}),
      allowPrivateHosts: options.allowPrivateUrls,
      allowPrivateUrls: options.allowPrivateUrls,
    }),
    createScrapeExecutor({ allowPrivateUrls: options.allowPrivateUrls }),
    createApflowApiExecutor({ allowPrivateUrls: options.allowPrivateUrls }),
  ];
}
