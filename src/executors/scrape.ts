/**
 * `scrape_executor`: fetches one web page and returns what a reader (or a model) needs
 * from it: readable text without scripts and page chrome, title, description, canonical
 * URL, language, headings and links. The fetch follows `rest_executor`'s rules (the
 * url-guard on every redirect hop, sockets pinned to checked addresses) and is bounded:
 * it stops reading at `maxBytes`, so a huge page costs no more than a small one.
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { type HTMLElement, type Node, NodeType, parse } from "node-html-parser";
import { ApflowError, ErrorCode } from "../core/errors.js";
import { defineExecutor, type Executor, type Logger } from "../core/executor.js";
import type { JsonObject } from "../core/types.js";
import { checkUrlAs, guardOptions } from "./address-guard.js";
import { withDeadline } from "./deadline.js";
import { InputReader, MAX_TIMER_MS } from "./inputs.js";
import { requestPinned } from "./pinned-request.js";
import { redirectTarget } from "./redirects.js";
import { shownUrl } from "./shown-url.js";
import type { ResolveHost, UrlGuardOptions } from "./url-guard.js";

export interface ScrapeExecutorOptions {
  /** Allow loopback, private and link-local addresses (APFLOW_REST_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Host names or IP literals exempt from the private-address guard. */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guard (custom resolvers, tests). @defaultValue dns.lookup */
  resolve?: ResolveHost;
}

export interface ScrapeLink extends JsonObject {
  url: string;
  text: string;
}

export interface ScrapeHeading extends JsonObject {
  level: number;
  text: string;
}

export interface ScrapeResult extends JsonObject {
  /** The URL the page was finally read from, after redirects. */
  url: string;
  status: number;
  contentType: string;
  title: string | null;
  description: string | null;
  canonicalUrl: string | null;
  language: string | null;
  text: string;
  headings: ScrapeHeading[];
  links: ScrapeLink[];
  /** Bytes of the (decoded) page that were read. */
  bytes: number;
  /** True when the page was longer than maxBytes and only its start was read. */
  truncated: boolean;
  /** True when the text was cut at maxTextChars. */
  textTruncated: boolean;
}

interface ScrapeInputs {
  url: URL;
  maxBytes: number;
  maxTextChars: number;
  maxLinks: number;
  timeoutMs: number;
  userAgent: string;
}

const ID = "scrape_executor";
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 2 * 1024 * 1024;
const DEFAULT_MAX_TEXT_CHARS = 100_000;
const DEFAULT_MAX_LINKS = 200;
const MAX_HEADINGS = 200;
const MAX_LINK_TEXT = 200;
/** Page chrome and non-content: left out of `text`. */
const NOT_TEXT =
  "head, script, style, noscript, template, svg, canvas, iframe, object, nav, footer, aside, form, button";
const HTML_TYPES = new Set(["text/html", "application/xhtml+xml"]);

const inputSchema = {
  type: "object",
  properties: {
    url: { type: "string", format: "uri", description: "Absolute http or https URL of the page." },
    maxBytes: {
      type: "integer",
      minimum: 1024,
      default: DEFAULT_MAX_BYTES,
      description: "Stop reading the page after this many (decoded) bytes; the start is still used.",
    },
    maxTextChars: {
      type: "integer",
      minimum: 0,
      default: DEFAULT_MAX_TEXT_CHARS,
      description: "Longest `text` returned; the rest is cut and textTruncated set.",
    },
    maxLinks: {
      type: "integer",
      minimum: 0,
      default: DEFAULT_MAX_LINKS,
      description: "Most links returned (absolute http(s) URLs, fragments removed, duplicates dropped).",
    },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_TIMEOUT_MS,
      description: "Limit for the whole fetch, redirects and body included; then the task fails with TIMEOUT.",
    },
    userAgent: { type: "string", minLength: 1, description: "User-Agent header to send." },
  },
  required: ["url"],
  additionalProperties: false,
};

/** Builds `scrape_executor`; unless `allowPrivateUrls`, only public addresses are reachable. */
export function createScrapeExecutor(options: ScrapeExecutorOptions = {}): Executor {
  const guard = guardOptions(options.allowPrivateUrls, options);
  return defineExecutor({
    id: ID,
    description:
      "Fetches a web page (HTML or text) and returns { url, status, contentType, title, description, canonicalUrl, " +
      "language, text, headings, links, bytes, truncated, textTruncated }: readable text without scripts, styles, " +
      "navigation, footers and asides, with whitespace collapsed. Reads at most maxBytes; other content types and " +
      "non-2xx statuses fail the task. Private, loopback and link-local addresses are refused unless the node " +
      "allows them (APFLOW_REST_ALLOW_PRIVATE_URLS=1).",
    inputSchema,
    async execute(raw, ctx) {
      const input = readInputs(raw);
      // DNS lookups cannot be aborted: withDeadline's race makes cancelling and timing out prompt anyway.
      return withDeadline(
        ctx.signal,
        input.timeoutMs,
        () => `scraping ${shownUrl(input.url)} timed out after ${input.timeoutMs} ms`,
        (signal) => scrape(input, guard, signal, ctx.logger),
      );
    },
  });
}

function readInputs(raw: JsonObject): ScrapeInputs {
  const reader = new InputReader(ID, raw);
  const url = reader.httpUrl("url");
  const input = {
    url: url!, // set: a missing or invalid url is a problem, and finish() throws
    maxBytes: reader.integer("maxBytes", 1024) ?? DEFAULT_MAX_BYTES,
    maxTextChars: reader.integer("maxTextChars", 0) ?? DEFAULT_MAX_TEXT_CHARS,
    maxLinks: reader.integer("maxLinks", 0) ?? DEFAULT_MAX_LINKS,
    timeoutMs: reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS,
    userAgent: reader.string("userAgent", { nonEmpty: true }) ?? "apflow",
  };
  reader.finish();
  return input;
}

async function scrape(input: ScrapeInputs, guard: UrlGuardOptions, signal: AbortSignal, logger: Logger) {
  const { response, url } = await fetchPage(input, guard, signal, logger);
  const status = response.statusCode ?? 0;
  const contentType = response.headers["content-type"] ?? "";
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (status < 200 || status >= 300) {
    response.destroy();
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `GET ${shownUrl(url)} returned HTTP ${status}`, {
      status,
      url: shownUrl(url),
    });
  }
  if (mediaType !== "" && !HTML_TYPES.has(mediaType) && !mediaType.startsWith("text/")) {
    // Refused before reading: a PDF or video is not downloaded just to be thrown away.
    response.destroy();
    throw new ApflowError(
      ErrorCode.EXECUTOR_FAILED,
      `${shownUrl(url)} is ${mediaType}; scrape_executor reads HTML and text only (rest_executor fetches anything)`,
      { status, contentType: mediaType, url: shownUrl(url) },
    );
  }
  const { body, truncated } = await readCapped(response, input.maxBytes);
  const html =
    HTML_TYPES.has(mediaType) || (mediaType === "" && /^\s*</.test(body.subarray(0, 512).toString("latin1")));
  if (mediaType === "" && !html && body.includes(0)) {
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `${shownUrl(url)} has no content type and is not text`, {
      status,
      url: shownUrl(url),
    });
  }
  const text = decode(body, charsetOf(contentType) ?? (html ? sniffCharset(body) : undefined));
  const page = html ? readHtml(text, url, input.maxLinks) : readText(text);
  const cut = page.text.length > input.maxTextChars;
  const result: ScrapeResult = {
    url: url.href,
    status,
    contentType: mediaType || (html ? "text/html" : "text/plain"),
    title: page.title,
    description: page.description,
    canonicalUrl: page.canonicalUrl,
    language: page.language ?? contentLanguage(response),
    text: cut ? page.text.slice(0, input.maxTextChars) : page.text,
    headings: page.headings,
    links: page.links,
    bytes: body.length,
    truncated,
    textTruncated: cut,
  };
  return result;
}

/** GETs the page, following redirects one checked hop at a time, as rest_executor does. */
async function fetchPage(
  input: ScrapeInputs,
  guard: UrlGuardOptions,
  signal: AbortSignal,
  logger: Logger,
): Promise<{ response: IncomingMessage; url: URL }> {
  let url = input.url;
  for (let redirects = 0; ; redirects++) {
    const target = await checkUrlAs(url, guard, ID);
    signal.throwIfAborted();
    logger.debug("scrape request", { url: shownUrl(url) });
    const response = await requestPinned(
      target,
      {
        method: "GET",
        headers: {
          "user-agent": input.userAgent,
          accept: "text/html,application/xhtml+xml,text/plain;q=0.9,text/*;q=0.8",
          "accept-encoding": "gzip, deflate, br",
        },
      },
      signal,
      (error) =>
        new ApflowError(
          ErrorCode.EXECUTOR_FAILED,
          `GET ${shownUrl(target.url)} failed: ${error.message}`,
          { code: error.code ?? null },
          { cause: error },
        ),
    );
    const next = redirectTarget(response, url, redirects, "GET", input.url);
    if (!next) return { response, url };
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `${shownUrl(url)} redirected to a ${next.protocol} URL`, {
        location: `${next.protocol}...`,
      });
    }
    url = next;
  }
}

/** Reads (and decompresses) up to `max` bytes, then stops the download. */
async function readCapped(response: IncomingMessage, max: number): Promise<{ body: Buffer; truncated: boolean }> {
  const encoding = response.headers["content-encoding"]?.trim().toLowerCase();
  const decoder =
    encoding === "gzip" || encoding === "x-gzip" || encoding === "deflate"
      ? zlib.createUnzip()
      : encoding === "br"
        ? zlib.createBrotliDecompress()
        : null;
  let stream: Readable = response;
  if (decoder) {
    response.on("error", (error) => decoder.destroy(error));
    stream = response.pipe(decoder);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of stream) {
      const piece = chunk as Buffer;
      const room = max - size;
      if (piece.length > room) {
        chunks.push(piece.subarray(0, room));
        size = max;
        truncated = true;
        break;
      }
      chunks.push(piece);
      size += piece.length;
    }
  } finally {
    // Stop the download itself, not just the reading: the rest is never needed.
    if (truncated || !response.complete) {
      response.destroy();
      decoder?.destroy();
    }
  }
  return { body: Buffer.concat(chunks), truncated };
}

function charsetOf(contentType: string): string | undefined {
  return /;\s*charset\s*=\s*"?([\w.:-]+)/i.exec(contentType)?.[1];
}

/** A `<meta charset>` (or http-equiv) near the start of the page. */
function sniffCharset(body: Buffer): string | undefined {
  const head = body.subarray(0, 4096).toString("latin1");
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1];
}

function decode(body: Buffer, charset: string | undefined): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset ?? "utf-8");
  } catch {
    // An unknown charset label: UTF-8 is the web's default.
    decoder = new TextDecoder("utf-8");
  }
  // Node's decoder reads windows-1252 (which latin1 and ascii labels also mean) as plain
  // latin1, losing the bytes 0x80-0x9F (curly quotes, dashes, euro) that old pages use.
  if (decoder.encoding === "windows-1252") {
    return body.toString("latin1").replace(/[\x80-\x9f]/g, (c) => CP1252[c.charCodeAt(0) - 0x80]!);
  }
  return decoder.decode(body);
}

/** Windows-1252 characters of the bytes 0x80-0x9F (the five unassigned ones map to themselves). */
const CP1252 = [
  ..."\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178",
];

function contentLanguage(response: IncomingMessage): string | null {
  const header = response.headers["content-language"];
  return header ? (header.split(",")[0]?.trim() ?? null) || null : null;
}

/** What the page itself says, before the cuts and the fetch's own fields. */
type Page = Pick<ScrapeResult, "title" | "description" | "canonicalUrl" | "language" | "text" | "headings" | "links">;

const collapse = (text: string) => text.replace(/\s+/g, " ").trim();
const nonEmpty = (text: string | undefined) => (text && collapse(text)) || null;

function readHtml(source: string, url: URL, maxLinks: number): Page {
  const root = parse(source, { comment: false });
  const meta = (selector: string) => nonEmpty(root.querySelector(selector)?.getAttribute("content"));
  const baseHref = root.querySelector("base[href]")?.getAttribute("href");
  const base = absolute(baseHref ?? "", url) ?? url.href;
  const canonical = root
    .querySelectorAll("link[rel][href]")
    .find((link) => (link.getAttribute("rel") ?? "").toLowerCase().split(/\s+/).includes("canonical"));
  const page: Page = {
    title: nonEmpty(root.querySelector("title")?.text) ?? meta('meta[property="og:title"]'),
    description: meta('meta[name="description"]') ?? meta('meta[property="og:description"]'),
    canonicalUrl: canonical ? absolute(canonical.getAttribute("href") ?? "", base) : null,
    language: nonEmpty(root.querySelector("html")?.getAttribute("lang")) ?? meta('meta[http-equiv="content-language"]'),
    // Links come from the whole page, navigation included: that is where a crawler finds its way.
    links: links(root, base, maxLinks),
    text: "",
    headings: [],
  };
  for (const element of root.querySelectorAll(NOT_TEXT)) element.remove();
  page.headings = root
    .querySelectorAll("h1, h2, h3, h4, h5, h6")
    .map((h) => ({ level: Number(h.tagName.slice(1)), text: collapse(h.text) }))
    .filter((h) => h.text !== "")
    .slice(0, MAX_HEADINGS);
  const body = root.querySelector("body") ?? root;
  page.text = readableText(body);
  return page;
}

/** Elements that start a new line of text. */
const BLOCKS = new Set(
  (
    "address article blockquote br dd details dialog div dl dt fieldset figcaption figure h1 h2 h3 h4 h5 h6 " +
    "header hr li main ol p pre section summary table tbody td tfoot th thead tr ul"
  ).split(" "),
);

/**
 * The text, one line per block, whitespace collapsed. Not node-html-parser's structuredText:
 * it drops the space in "a,\n  <a>b</a>" (trimming a text node that ends in several spaces).
 */
function readableText(root: HTMLElement): string {
  const lines: string[] = [];
  let line = "";
  const flush = () => {
    const text = collapse(line);
    if (text !== "") lines.push(text);
    line = "";
  };
  const walk = (node: Node) => {
    if (node.nodeType === NodeType.TEXT_NODE) {
      line += node.text;
      return;
    }
    if (node.nodeType !== NodeType.ELEMENT_NODE) return;
    const block = BLOCKS.has((node as HTMLElement).rawTagName?.toLowerCase() ?? "");
    if (block) flush();
    for (const child of node.childNodes) walk(child);
    if (block) flush();
  };
  walk(root);
  flush();
  return lines.join("\n");
}

function links(root: HTMLElement, base: string, max: number): ScrapeLink[] {
  const seen = new Set<string>();
  const out: ScrapeLink[] = [];
  for (const anchor of root.querySelectorAll("a[href]")) {
    if (out.length >= max) break;
    const href = absolute(anchor.getAttribute("href") ?? "", base);
    if (href === null || seen.has(href)) continue;
    seen.add(href);
    out.push({ url: href, text: collapse(anchor.text).slice(0, MAX_LINK_TEXT) });
  }
  return out;
}

/** An absolute http(s) URL without its fragment, or null (mailto:, javascript:, invalid). */
function absolute(href: string, base: string | URL): string | null {
  if (href.trim() === "") return null;
  try {
    const url = new URL(href.trim(), base);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    url.hash = "";
    return url.href;
  } catch {
    return null;
  }
}

function readText(source: string): Page {
  const text = source
    .split(/\r?\n/)
    .map((line) => line.replace(/[ \t\f\v]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return { title: null, description: null, canonicalUrl: null, language: null, text, headings: [], links: [] };
}
