/**
 * Peers for the send_email_executor tests: a real SMTP server (smtp-server) on a free
 * loopback port that keeps every message it receives, a TCP server that never greets
 * (for timeouts), and an HTTP server standing in for an e-mail API.
 */
import { once } from "node:events";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { listenOnLoopback } from "./loopback.js";

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  /** Who logged in, or null. */
  user: string | null;
  raw: string;
  /** Top-level headers, names lower-cased, folded lines joined. */
  headers: Record<string, string>;
  body: string;
}

export interface SmtpPeer {
  port: number;
  messages: ReceivedMail[];
  connections: number;
  close(): Promise<void>;
}

/** Recipients at `nobody@...` are refused with 550. With `auth`, login is required. */
export async function startSmtpPeer(auth?: { user: string; password: string }): Promise<SmtpPeer> {
  const messages: ReceivedMail[] = [];
  const peer = { port: 0, messages, connections: 0 } as SmtpPeer;
  const server = new SMTPServer({
    logger: false,
    // Plain text on loopback: no certificate to trust in tests.
    disabledCommands: auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !auth,
    allowInsecureAuth: true,
    onConnect(_session, callback) {
      peer.connections++;
      callback();
    },
    onAuth(login, _session, callback) {
      if (login.username === auth?.user && login.password === auth?.password) callback(null, { user: login.username });
      else callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("nobody@")) {
        callback(Object.assign(new Error(`No such user: ${address.address}`), { responseCode: 550 }));
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        messages.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          user: (session.user as string | undefined) ?? null,
          raw,
          ...parseMessage(raw),
        });
        callback();
      });
    },
  });
  server.listen(0, "127.0.0.1");
  await once(server.server, "listening");
  peer.port = (server.server.address() as AddressInfo).port;
  peer.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}

/** Headers and body of a message, enough to check what was sent. */
export function parseMessage(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: raw.slice(split + 4) };
}

/** Accepts TCP connections and never says anything: an SMTP server that hangs. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

export interface ApiRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface EmailApiPeer {
  origin: string;
  port: number;
  requests: ApiRequest[];
  close(): Promise<void>;
}

/**
 * An e-mail API: /send answers { id } (Resend-like), /postmark { MessageID },
 * /partial { id, accepted, rejected }, /unauthorized 401 quoting the key it got, /slow never.
 */
export async function startEmailApiPeer(): Promise<EmailApiPeer> {
  const requests: ApiRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      requests.push({ path: req.url ?? "", headers: req.headers, body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      switch (req.url) {
        case "/send":
          return json(200, { id: "msg_123" });
        case "/postmark":
          return json(200, { MessageID: "pm-42", ErrorCode: 0 });
        case "/partial":
          return json(200, { id: "msg_9", accepted: ["ann@example.com"], rejected: ["bad@example.com"] });
        case "/unauthorized":
          return json(401, {
            message: `invalid key ${req.headers.authorization ?? ""}`,
            apiKey: req.headers.authorization ?? null,
          });
        case "/slow":
          return; // never answers
        default:
          return json(404, { message: "not found" });
      }
    });
  });
  const { port, close } = await listenOnLoopback(server);
  return { origin: `http://127.0.0.1:${port}`, port, requests, close };
}
