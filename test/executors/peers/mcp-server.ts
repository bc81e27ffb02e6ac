/**
 * A real MCP server (built with the MCP SDK) for the mcp_executor tests. Run as a script
 * it serves over stdio, as a child process of the test; `startMcpHttpPeer` serves the
 * same tools and resources over streamable HTTP on a free loopback port, recording the
 * requests so tests can check the headers that arrived.
 *
 * Tools: echo (text), add (structured content), fail (isError), slow (waits, honours
 * cancellation), env (one environment variable), cwd, pid, progress (sends progress
 * notifications). Resources: memo://greeting (text), memo://data.json (JSON).
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import http, { type IncomingHttpHeaders } from "node:http";
import { pathToFileURL } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { listenOnLoopback } from "./loopback.js";

export function buildMcpServer(): McpServer {
  const server = new McpServer({ name: "apflow-test-peer", version: "1.0.0" });
  const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });

  server.registerTool(
    "echo",
    { description: "Returns its text argument.", inputSchema: { text: z.string() } },
    async ({ text: value }) => text(`echo: ${value}`),
  );
  server.registerTool(
    "add",
    {
      description: "Adds two numbers.",
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }], structuredContent: { sum: a + b } }),
  );
  server.registerTool("fail", { description: "Always reports a tool error." }, async () => ({
    content: [{ type: "text", text: "the tool broke on purpose" }],
    isError: true,
  }));
  server.registerTool(
    "slow",
    { description: "Answers after ms milliseconds.", inputSchema: { ms: z.number() } },
    async ({ ms }, extra) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return text("slow done");
    },
  );
  server.registerTool(
    "env",
    { description: "Returns an environment variable.", inputSchema: { name: z.string() } },
    async ({ name }) => text(process.env[name] ?? "<unset>"),
  );
  server.registerTool("cwd", { description: "Returns the working directory." }, async () => text(process.cwd()));
  server.registerTool("pid", { description: "Returns the server's process id." }, async () =>
    text(String(process.pid)),
  );
  server.registerTool(
    "progress",
    { description: "Sends three progress notifications, then answers." },
    async (extra) => {
      const token = extra._meta?.progressToken;
      for (let step = 1; step <= 3; step++) {
        // Spaced out like real work: the SDK client drops progress that arrives together with the answer.
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (token !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken: token, progress: step, total: 4, message: `step ${step}` },
          });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      return text("progressed");
    },
  );

  server.registerResource(
    "greeting",
    "memo://greeting",
    { description: "A greeting.", mimeType: "text/plain" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: "hello from the peer" }] }),
  );
  server.registerResource(
    "data",
    "memo://data.json",
    { description: "Some JSON.", mimeType: "application/json" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "application/json", text: '{"answer":42}' }] }),
  );
  return server;
}

export interface McpHttpPeer {
  /** The MCP endpoint, e.g. http://127.0.0.1:40123/mcp */
  url: string;
  requests: { method: string; headers: IncomingHttpHeaders }[];
  /** Session ids the client ended with DELETE. */
  closedSessions: string[];
  close(): Promise<void>;
}

/** The same server over streamable HTTP, one MCP session (server + transport) per client. */
export async function startMcpHttpPeer(): Promise<McpHttpPeer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const requests: McpHttpPeer["requests"] = [];
  const closedSessions: string[] = [];
  const httpServer = http.createServer(async (req, res) => {
    requests.push({ method: req.method ?? "", headers: req.headers });
    try {
      if (req.url !== "/mcp") {
        res.writeHead(404).end();
        return;
      }
      const sessionId = req.headers["mcp-session-id"];
      let transport = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
      if (transport && req.method === "DELETE") closedSessions.push(sessionId as string);
      if (!transport) {
        if (req.method !== "POST" || sessionId !== undefined) {
          res.writeHead(sessionId === undefined ? 400 : 404).end();
          return;
        }
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void sessions.set(id, created),
        });
        created.onclose = () => {
          if (created.sessionId) sessions.delete(created.sessionId);
        };
        await buildMcpServer().connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  });
  const listening = await listenOnLoopback(httpServer);
  return {
    url: `http://127.0.0.1:${listening.port}/mcp`,
    requests,
    closedSessions,
    close: async () => {
      await Promise.all([...sessions.values()].map((t) => t.close().catch(() => {})));
      await listening.close();
    },
  };
}

// Run directly (`node --import tsx mcp-server.ts`): serve over stdio until stdin closes.
// MCP_PID_FILE lets a test find the server's process, to check that stopping it worked.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.env.MCP_PID_FILE) writeFileSync(process.env.MCP_PID_FILE, String(process.pid));
  await buildMcpServer().connect(new StdioServerTransport());
}
