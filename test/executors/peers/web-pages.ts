/**
 * A loopback web server with fixture pages for the scrape_executor tests: an article
 * with page chrome, other charsets, plain text, non-HTML types, redirects, compressed,
 * huge and endless pages. Every request is recorded, with whether the client hung up early.
 */
import { once } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import { listenOnLoopback } from "./loopback.js";

export interface PageRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Set when the client went away before the response was finished. */
  closedEarly: boolean;
}

export interface WebPeer {
  origin: string;
  port: number;
  requests: PageRequest[];
  close(): Promise<void>;
}

export const ARTICLE = `<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>  Orchestrating   tasks &amp; trees </title>
  <meta name="description" content="How apflow runs task trees.">
  <meta property="og:title" content="OG title">
  <link rel="stylesheet" href="/style.css">
  <link rel="alternate canonical" href="/articles/orchestrating?utm=1#top">
  <style>body { color: red; }</style>
  <script>var secret = "<p>not text</p>"; if (a < b) {}</script>
</head>
<body>
  <nav><a href="/">Home</a> <a href="/articles">Articles</a></nav>
  <header><h1>Orchestrating   tasks</h1></header>
  <main>
    <p>Tasks   run when their
       dependencies are done.</p>
    <h2>Priorities</h2>
    <p>Zero is the <b>most</b> urgent. See <a href="/docs/priority#zero">the docs</a>
       and <a href="https://example.org/ext">an external page</a>.</p>
    <p>Again: <a href="/docs/priority#other">priority docs</a>, <a href="mailto:ops@example.com">mail</a>,
       <a href="javascript:void(0)">js</a>, <a href="">empty</a>.</p>
    <aside><h3>Related</h3><a href="/related">Related</a></aside>
    <noscript>Enable JavaScript</noscript>
    <h3>  </h3>
    <ul><li>one</li><li>two</li></ul>
  </main>
  <footer>Copyright <a href="/legal">Legal</a></footer>
  <script>document.write("<p>late</p>")</script>
</body>
</html>`;

function route(req: IncomingMessage, res: ServerResponse): Promise<void> | void {
  const url = new URL(req.url ?? "/", "http://peer");
  const param = (name: string) => url.searchParams.get(name);
  const html = (body: string | Buffer, type = "text/html; charset=utf-8", status = 200) => {
    res.writeHead(status, { "content-type": type });
    res.end(body);
  };
  switch (url.pathname) {
    case "/article":
      return html(ARTICLE, "text/html; charset=utf-8", 200);
    case "/base":
      return html(
        `<html><head><base href="https://cdn.example.com/docs/"><link rel=canonical href="page"></head>` +
          `<body><a href="a.html">A</a><a href="/b">B</a><a href="//other.example.com/c">C</a></body></html>`,
      );
    case "/og":
      return html(
        `<html><head><meta property="og:title" content="Only OG"><meta property="og:description" content="OG desc">` +
          `</head><body>x</body></html>`,
      );
    case "/plain":
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-language": "de, en" });
      res.end("  first   line\t\twith tabs  \r\n\r\n\r\n\r\nsecond <b>not html</b>\n");
      return;
    case "/latin1":
      return html(
        Buffer.from("<html><title>caf\xe9</title><body>na\xefve</body></html>", "latin1"),
        "text/html; charset=iso-8859-1",
      );
    case "/meta-charset":
      return html(
        Buffer.concat([
          Buffer.from('<html><head><meta charset="windows-1252"><title>price</title></head><body>10 '),
          Buffer.from([0x80]),
          Buffer.from("</body></html>"),
        ]),
        "text/html",
      );
    case "/no-type":
      res.end("<html><head><title>untyped</title></head><body>hello</body></html>");
      return;
    case "/pdf":
      res.writeHead(200, { "content-type": "application/pdf", "content-length": 10_000_000 });
      res.write(Buffer.alloc(64 * 1024));
      return; // never finishes: the client must not wait for it
    case "/json":
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"a":1}');
      return;
    case "/gzip":
      res.writeHead(200, { "content-type": "text/html", "content-encoding": "gzip" });
      res.end(gzipSync("<html><title>zipped</title><body>compressed body</body></html>"));
      return;
    case "/huge":
      return endless(res, Number(param("bytes") ?? Number.POSITIVE_INFINITY));
    case "/redirect":
      res.writeHead(Number(param("status") ?? 302), { location: param("to") ?? "/article" });
      res.end();
      return;
    case "/loop":
      res.writeHead(302, { location: `/loop?n=${Number(param("n") ?? 0) + 1}` });
      res.end();
      return;
    case "/status":
      return html("<html><title>Not here</title></html>", "text/html", Number(param("code") ?? 500));
    case "/slow":
      return; // never answers
    case "/many-links": {
      const anchors = Array.from({ length: 500 }, (_, i) => `<a href="/p/${i % 300}">page ${i}</a>`).join("");
      return html(`<html><body>${anchors}</body></html>`);
    }
    default:
      return html("<html><title>404</title></html>", "text/html", 404);
  }
}

/** An HTML page that grows by 64 KiB chunks up to `bytes` (or forever) while the client reads. */
async function endless(res: ServerResponse, bytes: number): Promise<void> {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.write("<html><head><title>Huge</title></head><body><p>");
  const chunk = Buffer.alloc(64 * 1024, "word ");
  const closed = once(res, "close").catch(() => {});
  for (let sent = 0; sent < bytes && !res.destroyed; sent += chunk.length) {
    if (!res.write(chunk)) {
      const drained = new Promise<void>((resolve) => res.once("drain", resolve));
      await Promise.race([drained, closed]);
    }
  }
  if (!res.destroyed) res.end("</p></body></html>");
}

export async function startWebPeer(): Promise<WebPeer> {
  const requests: PageRequest[] = [];
  const server = http.createServer((req, res) => {
    const seen: PageRequest = { path: req.url ?? "", headers: req.headers, closedEarly: false };
    requests.push(seen);
    res.on("close", () => {
      if (!res.writableFinished) seen.closedEarly = true;
    });
    Promise.resolve(route(req, res)).catch((error) => res.destroy(error));
  });
  const { port, close } = await listenOnLoopback(server);
  return { origin: `http://127.0.0.1:${port}`, port, requests, close };
}
