/**
 * Which executors a node may run. APFLOW_EXECUTORS (executor ids) and
 * APFLOW_EXTENSIONS (groups, as in the Python apflow) are allow-lists: when either
 * is set, everything else is blocked. It fails closed: a name that matches nothing
 * stops start-up with the list of known names, rather than silently allowing less
 * (or more) than meant. Blocked executors stay listed, with the reason.
 */
import { ApflowError, ErrorCode } from "../core/errors.js";
import type { ExecutorRegistry } from "../core/executor-registry.js";

/** Extension groups and the executors they contain. */
export const EXTENSIONS: Readonly<Record<string, readonly string[]>> = {
  core: ["aggregate_results_executor", "system_info_executor"],
  stdio: ["command_executor"],
  http: ["rest_executor"],
  websocket: ["websocket_executor"],
  grpc: ["grpc_executor"],
  ssh: ["ssh_executor"],
  docker: ["docker_executor"],
  mcp: ["mcp_executor"],
  llm: ["llm_executor"],
  crewai: ["crew_executor", "batch_crew_executor"],
  generate: ["generate_executor"],
  email: ["send_email_executor"],
  scrape: ["scrape_executor"],
  apflow: ["apflow_api_executor"],
};

export interface AccessRules {
  /** APFLOW_EXECUTORS: executor ids allowed. */
  executors?: string[];
  /** APFLOW_EXTENSIONS: extension groups allowed. */
  extensions?: string[];
}

export function applyAccessRules(registry: ExecutorRegistry, rules: AccessRules): void {
  if (rules.executors === undefined && rules.extensions === undefined) return;
  const known = registry.ids();
  const unknownExecutors = (rules.executors ?? []).filter((id) => !known.includes(id));
  const unknownExtensions = (rules.extensions ?? []).filter((name) => !(name in EXTENSIONS));
  if (unknownExecutors.length > 0 || unknownExtensions.length > 0) {
    const lines = [
      ...unknownExecutors.map((id) => `  - APFLOW_EXECUTORS: "${id}" is not an executor; known: ${known.join(", ")}`),
      ...unknownExtensions.map(
        (name) => `  - APFLOW_EXTENSIONS: "${name}" is not an extension; known: ${Object.keys(EXTENSIONS).join(", ")}`,
      ),
    ];
    throw new ApflowError(ErrorCode.CONFIG_ERROR, `unknown names in the executor allow-lists:\n${lines.join("\n")}`);
  }
  const allowed = new Set([
    ...(rules.executors ?? []),
    ...(rules.extensions ?? []).flatMap((name) => EXTENSIONS[name] ?? []),
  ]);
  for (const id of known) {
    if (allowed.has(id)) continue;
    const group = Object.entries(EXTENSIONS).find(([, ids]) => ids.includes(id))?.[0];
    registry.block(
      id,
      `executor "${id}" is not enabled on this server: add it to APFLOW_EXECUTORS${group ? ` (or "${group}" to APFLOW_EXTENSIONS)` : ""}`,
    );
  }
}
