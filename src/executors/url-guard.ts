/**
 * SSRF guard for `rest_executor`. Task inputs choose the URL, so without this a task
 * could reach the node's own services, the private network, or a cloud metadata
 * endpoint (169.254.169.254) and return what they answer. Every address a host
 * resolves to is checked, and the connection is then pinned to those checked
 * addresses (see `pinnedLookup`) so a second DNS answer cannot differ (DNS rebinding).
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { ApflowError, ErrorCode } from "../core/errors.js";

/** Resolves a host name to every address (as `dns.lookup` with `all: true`). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export interface UrlGuardOptions {
  /** Skip the address checks (APFLOW_REST_ALLOW_PRIVATE_URLS=1). */
  allowPrivate: boolean;
  /** Host names or IP literals exempt from the address checks (known internal services). */
  allowedHosts?: readonly string[];
  resolve?: ResolveHost;
}

export interface CheckedUrl {
  url: URL;
  /** The checked addresses to connect to; null when connecting may resolve freely. */
  addresses: LookupAddress[] | null;
}

type Range = { bits: bigint; prefix: number; name: string };

const V4_RANGES: [string, number, string][] = [
  ["0.0.0.0", 8, "unspecified address"],
  ["10.0.0.0", 8, "private network"],
  ["100.64.0.0", 10, "carrier-grade NAT network"],
  ["127.0.0.0", 8, "loopback address"],
  ["169.254.0.0", 16, "link-local address (cloud metadata)"],
  ["172.16.0.0", 12, "private network"],
  ["192.0.0.0", 24, "IETF protocol assignment"],
  ["192.0.2.0", 24, "documentation network"],
  ["192.168.0.0", 16, "private network"],
  ["198.18.0.0", 15, "benchmarking network"],
  ["198.51.100.0", 24, "documentation network"],
  ["203.0.113.0", 24, "documentation network"],
  ["224.0.0.0", 4, "multicast address"],
  ["240.0.0.0", 4, "reserved address"],
];

const V6_RANGES: [string, number, string][] = [
  ["::", 128, "unspecified address"],
  ["::1", 128, "loopback address"],
  ["64:ff9b:1::", 48, "local NAT64 network"],
  ["100::", 64, "discard-only address"],
  ["2001::", 32, "Teredo tunnel address"],
  ["2001:db8::", 32, "documentation network"],
  ["fc00::", 7, "unique local (private) address"],
  ["fe80::", 10, "link-local address"],
  ["fec0::", 10, "site-local address"],
  ["ff00::", 8, "multicast address"],
];

/** IPv6 prefixes that carry an IPv4 address in their low 32 bits, which is what gets checked. */
const V6_EMBEDDING_V4: [string, number][] = [
  ["::ffff:0:0", 96], // IPv4-mapped
  ["::", 96], // IPv4-compatible (deprecated)
  ["64:ff9b::", 96], // NAT64
];

const v4Ranges: Range[] = V4_RANGES.map(([ip, prefix, name]) => ({ bits: v4Bits(ip)!, prefix, name }));
const v6Ranges: Range[] = V6_RANGES.map(([ip, prefix, name]) => ({ bits: v6Bits(ip)!, prefix, name }));
const v6Embedding = V6_EMBEDDING_V4.map(([ip, prefix]) => ({ bits: v6Bits(ip)!, prefix }));

/**
 * The name of the non-public range an IP literal falls in ("loopback address", ...), or
 * null for a public address. Non-IP input counts as blocked ("not an IP address").
 */
export function blockedRange(ip: string): string | null {
  const address = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const v4 = v4Bits(address);
  if (v4 !== null) return matchRange(v4, 32, v4Ranges);
  const v6 = v6Bits(address);
  if (v6 === null) return "not an IP address";
  for (const embedding of v6Embedding) {
    if (inPrefix(v6, embedding.bits, embedding.prefix, 128) && v6 > 1n) {
      const range = matchRange(v6 & 0xffff_ffffn, 32, v4Ranges);
      return range === null ? null : `${range} (embedded in IPv6)`;
    }
  }
  if (inPrefix(v6, v6Bits("2002::")!, 16, 128)) {
    // 6to4: the IPv4 address sits in bits 16..48.
    const range = matchRange((v6 >> 80n) & 0xffff_ffffn, 32, v4Ranges);
    return range === null ? null : `${range} (embedded in 6to4)`;
  }
  return matchRange(v6, 128, v6Ranges);
}

function matchRange(bits: bigint, width: number, ranges: Range[]): string | null {
  return ranges.find((range) => inPrefix(bits, range.bits, range.prefix, width))?.name ?? null;
}

function inPrefix(bits: bigint, base: bigint, prefix: number, width: number): boolean {
  const shift = BigInt(width - prefix);
  return bits >> shift === base >> shift;
}

function v4Bits(ip: string): bigint | null {
  if (isIP(ip) !== 4) return null;
  return ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6Bits(ip: string): bigint | null {
  const address = ip.split("%")[0]!; // drop a zone id (fe80::1%eth0)
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = v4Bits(dotted[1]!)!;
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tailPart] = text.includes("::") ? text.split("::") : [text, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tailPart ? tailPart.split(":") : [];
  const zeros = tailPart === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill("0");
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

const defaultResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/**
 * Checks a URL before it is requested: http(s) only, and unless private URLs are allowed
 * every address of its host must be public. Returns the addresses to pin the connection to.
 */
export async function checkUrl(url: URL, options: UrlGuardOptions): Promise<CheckedUrl> {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ApflowError(
      ErrorCode.VALIDATION_ERROR,
      `rest_executor supports only http and https URLs, not ${url.protocol}`,
      { problems: [{ path: "inputs.url", code: ErrorCode.VALIDATION_ERROR, message: "must be an http or https URL" }] },
    );
  }
  if (options.allowPrivate) return { url, addresses: null };
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const family = isIP(host);
  const addresses = family !== 0 ? [{ address: host, family }] : await resolveHost(host, options.resolve);
  if (options.allowedHosts?.some((allowed) => allowed.toLowerCase() === host)) return { url, addresses };
  for (const { address } of addresses) {
    const range = blockedRange(address);
    if (range !== null) {
      const what = family !== 0 ? `${host} is a ${range}` : `${host} resolves to ${address}, a ${range}`;
      throw new ApflowError(
        ErrorCode.EXECUTOR_FORBIDDEN,
        `rest_executor refused ${url.origin}: ${what}. Set APFLOW_REST_ALLOW_PRIVATE_URLS=1 to allow private, ` +
          "loopback and link-local addresses",
        { host, address, range },
      );
    }
  }
  return { url, addresses };
}

async function resolveHost(host: string, resolve: ResolveHost = defaultResolve): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "ERROR";
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `could not resolve host ${host}: ${code}`,
      { host, code },
      {
        cause: error,
      },
    );
  }
  if (addresses.length === 0) {
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `could not resolve host ${host}: no addresses`, { host });
  }
  return addresses;
}

/**
 * A `lookup` for `http.request` that answers only with already-checked addresses, so the
 * socket connects where the guard looked, while Host, SNI and certificate checks keep
 * using the host name.
 */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    const usable = addresses.filter((a) => family === 0 || a.family === family);
    if (usable.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`no checked IPv${family} address for ${hostname}`);
      error.code = "ENOTFOUND";
      callback(error, "", 0);
    } else if (options.all) {
      callback(null, usable);
    } else {
      callback(null, usable[0]!.address, usable[0]!.family);
    }
  };
}
