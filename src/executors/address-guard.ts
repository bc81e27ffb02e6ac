/**
 * The private-address guard of url-guard.ts as the other executors use it. `checkUrl`
 * speaks as rest_executor; every executor that reaches a task-chosen peer (apflow-api,
 * scrape, send-email, websocket, grpc, ssh, guardedFetch) needs the same check with its
 * own name, its own setting and, for host:port peers, its own wording of the refusal.
 */
import type { LookupAddress } from "node:dns";
import { ApflowError, ErrorCode, isApflowError } from "../core/errors.js";
import { type CheckedUrl, checkUrl, type ResolveHost, type UrlGuardOptions } from "./url-guard.js";

/** The guard settings an executor's options carry. */
export function guardOptions(
  allowPrivate: boolean | undefined,
  options: { allowedHosts?: readonly string[]; resolve?: ResolveHost },
): UrlGuardOptions {
  return { allowPrivate: allowPrivate ?? false, allowedHosts: options.allowedHosts, resolve: options.resolve };
}

/** `checkUrl`, whose errors name `who` instead of rest_executor. */
export async function checkUrlAs(url: URL, guard: UrlGuardOptions, who: string): Promise<CheckedUrl> {
  try {
    return await checkUrl(url, guard);
  } catch (error) {
    throw renamed(error, who);
  }
}

/** The guard's errors name rest_executor; say which executor refused instead. */
function renamed(error: unknown, who: string): unknown {
  if (!isApflowError(error) || who === "rest_executor") return error;
  return new ApflowError(error.code, error.message.replace(/^rest_executor\b/, who), error.details, {
    cause: error.cause,
  });
}

/**
 * `checkUrl` for a peer that is not an http URL (an SSH or gRPC host, a WebSocket URL given
 * as http). Returns the addresses to pin to; a refusal is reworded by `refusal`, which gets
 * the reason ("host is a loopback address", "host resolves to a, a private network").
 */
export async function checkedAddresses(
  url: URL,
  guard: UrlGuardOptions,
  refusal: (what: string) => string,
): Promise<LookupAddress[] | null> {
  try {
    return (await checkUrl(url, guard)).addresses;
  } catch (error) {
    if (!isApflowError(error, ErrorCode.EXECUTOR_FORBIDDEN)) throw error;
    const { host, address, range } = error.details as { host: string; address: string; range: string };
    const what = host === address ? `${host} is a ${range}` : `${host} resolves to ${address}, a ${range}`;
    throw new ApflowError(ErrorCode.EXECUTOR_FORBIDDEN, refusal(what), { host, address, range });
  }
}
