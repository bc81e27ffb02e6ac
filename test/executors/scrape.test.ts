import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createScrapeExecutor, type ScrapeResult } from "../../src/executors/scrape.js";
import { caughtApflowError, fakeContext } from "./context.js";
import { startWebPeer, type WebPeer } from "./peers/web-pages.js";

let web: WebPeer;
let other: WebPeer;

beforeAll(async () => {
  [web, other] = await Promise.all([startWebPeer(), startWebPeer()]);
});
afterAll(async () => {
  await Promise.all([web.close(), other.close()]);
});

// The peers listen on loopback, which the guard refuses by default (tested below).
const scraper = createScrapeExecutor({ allowPrivateUrls: true });

async function scrape(inputs: JsonObject, executor = scraper, ctx = fakeContext()): Promise<ScrapeResult> {
  return (await executor.execute(inputs, ctx)) as ScrapeResult;
}

async function failure(inputs: JsonObject, executor = scraper, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

describe("scrape_executor reading HTML", () => {
  it("returns the readable text, metadata, headings and links of a page", async () => {
    const result = await scrape({ url: `${web.origin}/article` });
    expect(result).toMatchObject({
      url: `${web.origin}/article`,
      status: 200,
      contentType: "text/html",
      title: "Orchestrating tasks & trees",
      description: "How apflow runs task trees.",
      canonicalUrl: `${web.origin}/articles/orchestrating?utm=1`,
      language: "en-GB",
      truncated: false,
      textTruncated: false,
    });
    expect(result.text).toBe(
      [
        "Orchestrating tasks",
        "Tasks run when their dependencies are done.",
        "Priorities",
        "Zero is the most urgent. See the docs and an external page.",
        "Again: priority docs, mail, js, empty.",
        "one",
        "two",
      ].join("\n"),
    );
    for (const hidden of ["color: red", "not text", "late", "Home", "Related", "Copyright", "Enable JavaScript"]) {
      expect(result.text).not.toContain(hidden);
    }
    expect(result.headings).toEqual([
      { level: 1, text: "Orchestrating tasks" },
      { level: 2, text: "Priorities" },
    ]);
    // Absolute, without fragments, deduplicated, http(s) only, no empty href; navigation and footer links included.
    expect(result.links).toEqual([
      { url: `${web.origin}/`, text: "Home" },
      { url: `${web.origin}/articles`, text: "Articles" },
      { url: `${web.origin}/docs/priority`, text: "the docs" },
      { url: "https://example.org/ext", text: "an external page" },
      { url: `${web.origin}/related`, text: "Related" },
      { url: `${web.origin}/legal`, text: "Legal" },
    ]);
    expect(result.bytes).toBe(Buffer.byteLength((await import("./peers/web-pages.js")).ARTICLE));
  });

  it("resolves links against <base href>, and falls back to Open Graph metadata", async () => {
    const based = await scrape({ url: `${web.origin}/base` });
    expect(based.links.map((l) => l.url)).toEqual([
      "https://cdn.example.com/docs/a.html",
      "https://cdn.example.com/b",
      "https://other.example.com/c",
    ]);
    expect(based.canonicalUrl).toBe("https://cdn.example.com/docs/page");
    expect(based.title).toBeNull();
    const og = await scrape({ url: `${web.origin}/og` });
    expect(og).toMatchObject({ title: "Only OG", description: "OG desc", language: null });
  });

  it("caps the links and the text", async () => {
    const result = await scrape({ url: `${web.origin}/many-links`, maxLinks: 10, maxTextChars: 20 });
    expect(result.links.length).toBe(10);
    expect(result.links[9]).toEqual({ url: `${web.origin}/p/9`, text: "page 9" });
    expect(result.text).toBe("page 0page 1page 2pa");
    expect(result.textTruncated).toBe(true);
    const deduped = await scrape({ url: `${web.origin}/many-links` });
    expect(deduped.links.length).toBe(200);
    expect((await scrape({ url: `${web.origin}/many-links`, maxLinks: 1000 })).links.length).toBe(300);
    expect((await scrape({ url: `${web.origin}/many-links`, maxLinks: 0 })).links).toEqual([]);
  });

  it("decodes the charset of the header or of a <meta charset>", async () => {
    expect(await scrape({ url: `${web.origin}/latin1` })).toMatchObject({ title: "café", text: "naïve" });
    expect((await scrape({ url: `${web.origin}/meta-charset` })).text).toBe("10 €");
  });

  it("decompresses a gzip body, and sniffs HTML without a content type", async () => {
    expect(await scrape({ url: `${web.origin}/gzip` })).toMatchObject({ title: "zipped", text: "compressed body" });
    expect(await scrape({ url: `${web.origin}/no-type` })).toMatchObject({
      contentType: "text/html",
      title: "untyped",
      text: "hello",
    });
  });
});

describe("scrape_executor other content", () => {
  it("returns plain text as text, whitespace collapsed, with the Content-Language", async () => {
    const result = await scrape({ url: `${web.origin}/plain` });
    expect(result).toMatchObject({
      contentType: "text/plain",
      title: null,
      language: "de",
      text: "first line with tabs\n\nsecond <b>not html</b>",
      links: [],
      headings: [],
    });
  });

  it("refuses other content types before downloading them", async () => {
    const pdf = await failure({ url: `${web.origin}/pdf` });
    expect(pdf.code).toBe("EXECUTOR_FAILED");
    expect(pdf.message).toContain("is application/pdf; scrape_executor reads HTML and text only");
    await expect.poll(() => web.requests.find((r) => r.path === "/pdf")?.closedEarly).toBe(true);
    expect((await failure({ url: `${web.origin}/json` })).details?.contentType).toBe("application/json");
  });

  it("fails on an error status", async () => {
    const error = await failure({ url: `${web.origin}/status?code=404&token=x` });
    expect(error.message).toBe(`GET ${web.origin}/status returned HTTP 404`);
    expect(error.details?.status).toBe(404);
  });
});

describe("scrape_executor bounds", () => {
  it("stops reading a huge page at maxBytes and still returns its start", async () => {
    const result = await scrape({ url: `${web.origin}/huge?n=1`, maxBytes: 100_000 });
    expect(result).toMatchObject({ title: "Huge", bytes: 100_000, truncated: true });
    expect(result.text.startsWith("word word")).toBe(true);
    await expect.poll(() => web.requests.find((r) => r.path === "/huge?n=1")?.closedEarly).toBe(true);
  });

  it("stops an endless page at the default 2 MiB", async () => {
    const result = await scrape({ url: `${web.origin}/huge?n=2`, maxTextChars: 10 });
    expect(result.bytes).toBe(2 * 1024 * 1024);
    expect(result.truncated).toBe(true);
  });

  it("reads a page of exactly maxBytes whole", async () => {
    const result = await scrape({ url: `${web.origin}/huge?bytes=1`, maxBytes: 1024 * 1024 });
    expect(result.truncated).toBe(false);
  });

  it("fails with TIMEOUT and hangs up", async () => {
    const error = await failure({ url: `${web.origin}/slow?t=timeout`, timeoutMs: 200 });
    expect(error.code).toBe("TIMEOUT");
    await expect.poll(() => web.requests.find((r) => r.path === "/slow?t=timeout")?.closedEarly).toBe(true);
  });

  it("rejects with the signal's reason when cancelled", async () => {
    const controller = new AbortController();
    const reason = new ApflowError("CANCELLED", "cancelled by test");
    const pending = scrape({ url: `${web.origin}/slow?t=abort` }, scraper, fakeContext({ signal: controller.signal }));
    await expect.poll(() => web.requests.some((r) => r.path === "/slow?t=abort")).toBe(true);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe("scrape_executor redirects and the guard", () => {
  it("follows redirects and reports the final URL", async () => {
    const result = await scrape({ url: `${web.origin}/redirect?to=/article` });
    expect(result.url).toBe(`${web.origin}/article`);
    expect(result.title).toBe("Orchestrating tasks & trees");
  });

  it("gives up after 5 redirects and refuses non-http targets", async () => {
    expect((await failure({ url: `${web.origin}/loop` })).message).toContain("too many redirects");
    const ftp = await failure({ url: `${web.origin}/redirect?to=${encodeURIComponent("file:///etc/passwd")}` });
    expect(ftp.message).toContain("redirected to a file: URL");
  });

  it.each(["127.0.0.1", "localhost", "[::1]"])("refuses %s without contacting it", async (host) => {
    const before = web.requests.length;
    const error = await failure({ url: `http://${host}:${web.port}/article` }, createScrapeExecutor());
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("scrape_executor refused");
    expect(error.message).toContain("APFLOW_REST_ALLOW_PRIVATE_URLS=1");
    expect(web.requests.length).toBe(before);
  });

  it("re-checks every redirect hop", async () => {
    const exempt = createScrapeExecutor({ allowedHosts: ["127.0.0.1"] });
    const target = encodeURIComponent(`http://localhost:${other.port}/article`);
    const before = other.requests.length;
    const error = await failure({ url: `${web.origin}/redirect?to=${target}` }, exempt);
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(other.requests.length).toBe(before);
  });

  it("connects to the address it checked", async () => {
    const pinned = createScrapeExecutor({
      allowedHosts: ["www.example.test"],
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    const result = await scrape({ url: `http://www.example.test:${web.port}/article` }, pinned);
    expect(result.title).toBe("Orchestrating tasks & trees");
    expect(web.requests.at(-1)!.headers.host).toBe(`www.example.test:${web.port}`);
  });

  it("lists every invalid input at once", async () => {
    const error = await failure({ url: "ftp://example.com/", maxBytes: 10, maxLinks: -1, timeoutMs: 0 });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.maxBytes",
      "inputs.maxLinks",
      "inputs.timeoutMs",
      "inputs.url",
    ]);
  });
});
