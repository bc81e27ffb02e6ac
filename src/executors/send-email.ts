/**
 * `send_email_executor`: sends one e-mail, over SMTP (nodemailer) or through an HTTP
 * e-mail API (Resend-style JSON, with renamable fields for other providers). Task inputs
 * may name the server, so a task-chosen SMTP host or API URL goes through the same
 * private-address guard as `rest_executor`: otherwise a task could talk SMTP (or POST)
 * to the node's internal services. Servers configured by the operator are trusted.
 */
import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import nodemailer from "nodemailer";
import addressparser from "nodemailer/lib/addressparser";
import { ApflowError, ErrorCode, errorMessage } from "../core/errors.js";
import { defineExecutor, type Executor } from "../core/executor.js";
import { redactSecrets } from "../core/redact.js";
import type { JsonObject, JsonValue } from "../core/types.js";
import { checkUrlAs, guardOptions } from "./address-guard.js";
import { withDeadline } from "./deadline.js";
import { InputReader, isJsonObject, MAX_TIMER_MS } from "./inputs.js";
import { requestPinned } from "./pinned-request.js";
import { readText } from "./response-text.js";
import { scrubbedError } from "./secret-scrub.js";
import { shownUrl } from "./shown-url.js";
import { blockedRange, type ResolveHost } from "./url-guard.js";

export interface SmtpSettings {
  host: string;
  /** @defaultValue 465 when secure, else 587 */
  port?: number;
  /** TLS from the start (port 465); otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  user?: string;
  password?: string;
  /** Verify the server's TLS certificate. @defaultValue true */
  verifyTls?: boolean;
}

export interface EmailApiSettings {
  /** The provider's send endpoint, e.g. https://api.resend.com/emails. */
  url: string;
  apiKey?: string;
}

export interface SendEmailExecutorOptions {
  /** The node's SMTP server, used when a task names none (APFLOW_SMTP_HOST, _PORT, _SECURE, _USER, _PASSWORD). Trusted: not guarded. */
  smtp?: SmtpSettings;
  /** The node's HTTP e-mail API, used when a task names none (APFLOW_EMAIL_API_URL, APFLOW_EMAIL_API_KEY). Trusted: not guarded. */
  http?: EmailApiSettings;
  /** Sender used when a task gives no `from` (APFLOW_EMAIL_FROM). */
  from?: string;
  /** Let tasks name loopback, private and link-local SMTP hosts (APFLOW_REST_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateHosts?: boolean;
  /** Let tasks name e-mail API URLs on loopback, private and link-local addresses (APFLOW_REST_ALLOW_PRIVATE_URLS=1). @defaultValue false */
  allowPrivateUrls?: boolean;
  /** Host names or IP literals exempt from both guards, e.g. a known internal relay. */
  allowedHosts?: string[];
  /** Replaces DNS resolution for the guards (tests, custom resolvers). @defaultValue dns.lookup */
  resolve?: ResolveHost;
}

export interface SendEmailResult extends JsonObject {
  /** The Message-ID (SMTP) or the provider's message id (HTTP); null when the provider gave none. */
  messageId: string | null;
  accepted: string[];
  rejected: string[];
}

interface Attachment {
  filename: string;
  content: Buffer;
  contentType: string | undefined;
}

interface Message {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string | undefined;
  subject: string;
  text: string | undefined;
  html: string | undefined;
  attachments: Attachment[];
}

interface SmtpTarget extends Required<Omit<SmtpSettings, "user" | "password">> {
  user: string | undefined;
  password: string | undefined;
  /** Whether the host came from the task (and so is guarded). */
  fromTask: boolean;
}

interface HttpTarget {
  url: URL;
  apiKey: string | undefined;
  apiKeyHeader: string;
  fieldNames: Record<string, string>;
  extraBody: JsonObject;
  messageIdField: string | undefined;
  fromTask: boolean;
}

type Delivery = { provider: "smtp"; smtp: SmtpTarget } | { provider: "http"; api: HttpTarget };

const ID = "send_email_executor";
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const ERROR_BODY_CHARS = 1000;
/** Fields of the JSON body an HTTP provider receives; `fieldNames` may rename each. */
const BODY_FIELDS = ["from", "to", "cc", "bcc", "replyTo", "subject", "text", "html", "attachments"];
/** Where providers put the id of the accepted message, tried in order. */
const MESSAGE_ID_FIELDS = ["id", "messageId", "message_id", "MessageID", "MessageId"];

const recipients = (description: string) => ({
  oneOf: [
    { type: "string", minLength: 1 },
    { type: "array", items: { type: "string", minLength: 1 } },
  ],
  description,
});

const inputSchema = {
  type: "object",
  properties: {
    provider: {
      type: "string",
      enum: ["smtp", "http"],
      description:
        "How to send: smtp, or http for an HTTP e-mail API. Default: http when url is given or the node has only " +
        "an HTTP API configured, else smtp.",
    },
    smtp: {
      type: "object",
      description: "SMTP server; overrides the node's. Without host, the node's server with these settings.",
      properties: {
        host: { type: "string", minLength: 1, description: "Server host name or IP address." },
        port: { type: "integer", minimum: 1, maximum: 65535, description: "Default 465 when secure, else 587." },
        secure: { type: "boolean", description: "TLS from the start (port 465); otherwise STARTTLS when offered." },
        user: { type: "string", description: "Login name; no authentication without it." },
        password: { type: "string", description: "Login password (never logged or shown in errors)." },
        verifyTls: { type: "boolean", default: true, description: "Verify the server's certificate." },
      },
      additionalProperties: false,
    },
    url: { type: "string", format: "uri", description: "HTTP provider: the send endpoint (POSTed JSON)." },
    apiKey: { type: "string", description: "HTTP provider: the API key (never logged or shown in errors)." },
    apiKeyHeader: {
      type: "string",
      default: "Authorization",
      description: "HTTP provider: header for the key; Authorization sends `Bearer <key>`, any other the bare key.",
    },
    fieldNames: {
      type: "object",
      additionalProperties: { type: "string", minLength: 1 },
      description:
        'HTTP provider: renames body fields for the provider, e.g. { "text": "TextBody" }. Fields: ' +
        `${BODY_FIELDS.join(", ")} (to, cc and bcc are arrays; attachments are { filename, content (base64), contentType }).`,
    },
    extraBody: {
      type: "object",
      description: "HTTP provider: more members of the JSON body (provider options); the message's fields win.",
    },
    messageIdField: {
      type: "string",
      description: `HTTP provider: the response member holding the message id (default: the first of ${MESSAGE_ID_FIELDS.join(", ")}).`,
    },
    from: {
      type: "string",
      minLength: 1,
      description: 'Sender, e.g. "Ops <ops@example.com>"; defaults to the node\'s.',
    },
    to: recipients("Recipient(s): an address, a comma-separated list, or an array."),
    cc: recipients("Copy recipient(s)."),
    bcc: recipients("Blind copy recipient(s)."),
    replyTo: { type: "string", description: "Reply-To address." },
    subject: { type: "string", default: "", description: "Subject line." },
    text: { type: "string", description: "Plain-text body." },
    html: { type: "string", description: "HTML body." },
    attachments: {
      type: "array",
      description: "Files to attach, with their content inline.",
      items: {
        type: "object",
        properties: {
          filename: { type: "string", minLength: 1 },
          content: { type: "string", description: "The file's content: text, or base64 with encoding: base64." },
          encoding: { type: "string", enum: ["utf8", "base64"], default: "utf8" },
          contentType: { type: "string", description: "MIME type; guessed from the filename when absent." },
        },
        required: ["filename", "content"],
        additionalProperties: false,
      },
    },
    timeoutMs: {
      type: "integer",
      minimum: 1,
      maximum: MAX_TIMER_MS,
      default: DEFAULT_TIMEOUT_MS,
      description: "Limit for the whole delivery; then the task fails with TIMEOUT.",
    },
  },
  additionalProperties: false,
};

/** Builds `send_email_executor`; task-chosen servers must be public unless the options allow private ones. */
export function createSendEmailExecutor(options: SendEmailExecutorOptions = {}): Executor {
  return defineExecutor({
    id: ID,
    description:
      "Sends an e-mail over SMTP or through an HTTP e-mail API and returns { messageId, accepted, rejected }. " +
      "Fails when every recipient is refused. SMTP hosts and API URLs chosen by the task must be public unless " +
      "the node allows private ones (APFLOW_REST_ALLOW_PRIVATE_URLS=1).",
    inputSchema,
    async execute(raw, ctx) {
      const { message, delivery, timeoutMs } = readInputs(raw, options);
      const secrets = secretsOf(delivery);
      const count = message.to.length + message.cc.length + message.bcc.length;
      // DNS lookups cannot be aborted: withDeadline's race makes cancelling and timing out prompt anyway.
      return withDeadline(
        ctx.signal,
        timeoutMs,
        () => `sending the e-mail timed out after ${timeoutMs} ms`,
        async (signal) => {
          try {
            if (delivery.provider === "smtp") {
              ctx.logger.info("sending e-mail over SMTP", {
                host: delivery.smtp.host,
                port: delivery.smtp.port,
                recipients: count,
              });
              return await sendSmtp(message, delivery.smtp, options, signal);
            }
            ctx.logger.info("sending e-mail through an HTTP API", {
              origin: delivery.api.url.origin,
              recipients: count,
            });
            return await sendHttp(message, delivery.api, options, signal);
          } catch (error) {
            // The abort reason (cancellation, TIMEOUT) is what withDeadline throws instead.
            throw scrubbedError(error, secrets);
          }
        },
      );
    },
  });
}

function readInputs(
  raw: JsonObject,
  options: SendEmailExecutorOptions,
): { message: Message; delivery: Delivery; timeoutMs: number } {
  const reader = new InputReader(ID, raw);
  const addresses = (key: string): string[] => {
    const value = reader.raw(key);
    if (value === undefined) return [];
    const list = typeof value === "string" ? [value] : Array.isArray(value) ? value : null;
    if (list === null || list.some((item) => typeof item !== "string" || item.trim() === "")) {
      reader.problem(key, "must be an address or an array of addresses");
      return [];
    }
    if (list.some((item) => /[\r\n]/.test(item as string) || !(item as string).includes("@"))) {
      reader.problem(key, "must hold e-mail addresses (with @, without line breaks)");
      return [];
    }
    return list as string[];
  };
  const from = reader.string("from", { nonEmpty: true }) ?? options.from;
  if (from === undefined) reader.problem("from", "is required (this node has no default sender)");
  const message: Message = {
    from: from ?? "",
    to: addresses("to"),
    cc: addresses("cc"),
    bcc: addresses("bcc"),
    replyTo: reader.string("replyTo", { nonEmpty: true }),
    subject: reader.string("subject") ?? "",
    text: reader.string("text"),
    html: reader.string("html"),
    attachments: readAttachments(reader),
  };
  const none = (key: string) => {
    const value = reader.raw(key);
    return value === undefined || (Array.isArray(value) && value.length === 0);
  };
  if (none("to") && none("cc") && none("bcc")) {
    reader.problem("to", "at least one recipient is required (to, cc or bcc)");
  }
  const provider =
    reader.oneOf("provider", ["smtp", "http"] as const) ??
    (reader.raw("url") !== undefined || (options.http && !options.smtp && reader.raw("smtp") === undefined)
      ? "http"
      : "smtp");
  const delivery: Delivery | undefined =
    provider === "smtp" ? smtpDelivery(reader, options) : httpDelivery(reader, options);
  const timeoutMs = reader.integer("timeoutMs", 1, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS;
  reader.finish();
  return { message, delivery: delivery!, timeoutMs };
}

function readAttachments(reader: InputReader): Attachment[] {
  const value = reader.raw("attachments");
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    reader.problem("attachments", "must be an array");
    return [];
  }
  const attachments: Attachment[] = [];
  value.forEach((item, index) => {
    const key = `attachments[${index}]`;
    if (!isJsonObject(item) || typeof item.filename !== "string" || typeof item.content !== "string") {
      reader.problem(key, "must be an object with string filename and content");
      return;
    }
    const encoding = item.encoding ?? "utf8";
    if (encoding !== "utf8" && encoding !== "base64") {
      reader.problem(`${key}.encoding`, 'must be "utf8" or "base64"');
      return;
    }
    if (encoding === "base64" && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(item.content)) {
      reader.problem(`${key}.content`, "is not valid base64");
      return;
    }
    if (item.contentType !== undefined && typeof item.contentType !== "string") {
      reader.problem(`${key}.contentType`, "must be a string");
      return;
    }
    if (/[\r\n]/.test(item.filename) || item.filename === "") {
      reader.problem(`${key}.filename`, "must be a non-empty name without line breaks");
      return;
    }
    attachments.push({
      filename: item.filename,
      content: Buffer.from(item.content, encoding),
      contentType: item.contentType,
    });
  });
  return attachments;
}

function smtpDelivery(reader: InputReader, options: SendEmailExecutorOptions): Delivery | undefined {
  const given = reader.object("smtp");
  const text = (key: string): string | undefined => {
    const value = given?.[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string" && value !== "") return value;
    reader.problem(`smtp.${key}`, "must be a non-empty string");
    return undefined;
  };
  const flag = (key: string): boolean | undefined => {
    const value = given?.[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === "boolean") return value;
    reader.problem(`smtp.${key}`, "must be a boolean");
    return undefined;
  };
  const port = given?.port;
  if (
    port !== undefined &&
    port !== null &&
    !(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)
  ) {
    reader.problem("smtp.port", "must be an integer between 1 and 65535");
  }
  const host = text("host");
  // A task naming its own host gets nothing of the node's server: not its credentials either.
  const base: SmtpSettings | undefined = host !== undefined ? undefined : options.smtp;
  if (host === undefined && base === undefined) {
    reader.problem("smtp.host", "is required (this node has no SMTP server configured)");
    return undefined;
  }
  const secure = flag("secure") ?? base?.secure ?? false;
  return {
    provider: "smtp",
    smtp: {
      host: host ?? base!.host,
      port: typeof port === "number" ? port : (base?.port ?? (secure ? 465 : 587)),
      secure,
      user: text("user") ?? base?.user,
      password: text("password") ?? base?.password,
      verifyTls: flag("verifyTls") ?? base?.verifyTls ?? true,
      fromTask: host !== undefined,
    },
  };
}

function httpDelivery(reader: InputReader, options: SendEmailExecutorOptions): Delivery | undefined {
  const urlText = reader.string("url", { nonEmpty: true });
  let url: URL | undefined;
  if (urlText !== undefined) {
    try {
      url = new URL(urlText);
    } catch {
      reader.problem("url", "must be an absolute http or https URL");
    }
    if (url && url.protocol !== "http:" && url.protocol !== "https:") {
      reader.problem("url", "must be an http or https URL");
    }
  } else if (options.http) {
    url = new URL(options.http.url);
  } else {
    reader.problem("url", "is required for provider http (this node has no e-mail API configured)");
  }
  const fieldNames = reader.stringMap("fieldNames") ?? {};
  const unknown = Object.keys(fieldNames).filter((name) => !BODY_FIELDS.includes(name));
  if (unknown.length > 0)
    reader.problem("fieldNames", `unknown fields: ${unknown.join(", ")} (known: ${BODY_FIELDS.join(", ")})`);
  const api: HttpTarget = {
    url: url!,
    // A task naming its own URL never receives the node's key.
    apiKey: reader.string("apiKey") ?? (urlText === undefined ? options.http?.apiKey : undefined),
    apiKeyHeader: (reader.string("apiKeyHeader", { nonEmpty: true }) ?? "authorization").toLowerCase(),
    fieldNames,
    extraBody: reader.object("extraBody") ?? {},
    messageIdField: reader.string("messageIdField", { nonEmpty: true }),
    fromTask: urlText !== undefined,
  };
  return url ? { provider: "http", api } : undefined;
}

/** Every secret of this delivery, so no error or detail can carry one out. */
function secretsOf(delivery: Delivery): string[] {
  const values =
    delivery.provider === "smtp"
      ? [
          delivery.smtp.password,
          // AUTH LOGIN and AUTH PLAIN send it base64-encoded: those forms must not leak either.
          delivery.smtp.password && Buffer.from(delivery.smtp.password).toString("base64"),
          delivery.smtp.user && delivery.smtp.password ? authPlain(delivery.smtp) : undefined,
        ]
      : [delivery.api.apiKey];
  return values.filter((v): v is string => v !== undefined && v.length >= 3);
}

function authPlain(smtp: SmtpTarget): string {
  return Buffer.from(`\0${smtp.user}\0${smtp.password}`).toString("base64");
}

// ---- SMTP ----

const defaultResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/**
 * Where to connect for a task-chosen SMTP host: its checked address, with the host name
 * kept for TLS (SNI and certificate), so a second DNS answer cannot lead elsewhere.
 */
async function checkSmtpHost(
  host: string,
  options: SendEmailExecutorOptions,
): Promise<{ connectTo: string; servername: string | undefined }> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (options.allowPrivateHosts) return { connectTo: bare, servername: undefined };
  let addresses: { address: string }[];
  if (isIP(bare) !== 0) addresses = [{ address: bare }];
  else {
    try {
      addresses = await (options.resolve ?? defaultResolve)(bare);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "ERROR";
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `could not resolve SMTP host ${bare}: ${code}`, {
        host: bare,
        code,
      });
    }
    if (addresses.length === 0) {
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `could not resolve SMTP host ${bare}: no addresses`, {
        host: bare,
      });
    }
  }
  const servername = isIP(bare) === 0 ? bare : undefined;
  const exempt = options.allowedHosts?.some((allowed) => allowed.toLowerCase() === bare.toLowerCase());
  for (const { address } of exempt ? [] : addresses) {
    const range = blockedRange(address);
    if (range !== null) {
      const what = isIP(bare) !== 0 ? `${bare} is a ${range}` : `${bare} resolves to ${address}, a ${range}`;
      throw new ApflowError(
        ErrorCode.EXECUTOR_FORBIDDEN,
        `${ID} refused SMTP host ${bare}: ${what}. Set APFLOW_REST_ALLOW_PRIVATE_URLS=1 to allow private, ` +
          "loopback and link-local hosts",
        { host: bare, address, range },
      );
    }
  }
  return { connectTo: addresses[0]!.address, servername };
}

async function sendSmtp(
  message: Message,
  smtp: SmtpTarget,
  options: SendEmailExecutorOptions,
  signal: AbortSignal,
): Promise<SendEmailResult> {
  const target = smtp.fromTask
    ? await checkSmtpHost(smtp.host, options)
    : { connectTo: smtp.host, servername: undefined };
  signal.throwIfAborted();
  const transport = nodemailer.createTransport({
    host: target.connectTo,
    port: smtp.port,
    secure: smtp.secure,
    ...(target.servername ? { servername: target.servername } : {}),
    auth: smtp.user !== undefined ? { user: smtp.user, pass: smtp.password ?? "" } : undefined,
    tls: { rejectUnauthorized: smtp.verifyTls, ...(target.servername ? { servername: target.servername } : {}) },
    // Attachments are inline content only: never let the message pull in files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  });
  try {
    const info = await transport.sendMail({
      from: message.from,
      to: message.to,
      cc: message.cc,
      bcc: message.bcc,
      replyTo: message.replyTo,
      subject: message.subject,
      text: message.text,
      html: message.html,
      attachments: message.attachments.map((a) => ({
        filename: a.filename,
        content: a.content,
        ...(a.contentType ? { contentType: a.contentType } : {}),
      })),
      signal,
    });
    return {
      messageId: info.messageId ?? null,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
    };
  } catch (error) {
    throw smtpError(error, smtp);
  } finally {
    transport.close();
  }
}

function smtpError(error: unknown, smtp: SmtpTarget): unknown {
  if ((error as Error | undefined)?.name === "AbortError") return error;
  const e = error as NodeJS.ErrnoException & { responseCode?: number; rejected?: unknown[] };
  const server = `${smtp.host}:${smtp.port}`;
  const details: Record<string, unknown> = { code: e.code ?? null, responseCode: e.responseCode ?? null, server };
  let message: string;
  switch (e.code) {
    case "EAUTH":
      message = `SMTP login as ${smtp.user ?? "(none)"} at ${server} failed: ${e.message}`;
      break;
    case "EENVELOPE":
      message = `${server} refused the message: ${e.message}`;
      if (Array.isArray(e.rejected)) details.rejected = e.rejected.map(String);
      break;
    case "ECONNECTION":
    case "ESOCKET":
    case "ETIMEDOUT":
    case "EDNS":
      message = `could not talk to SMTP server ${server}: ${e.message}`;
      break;
    default:
      message = `sending over SMTP to ${server} failed: ${errorMessage(error)}`;
  }
  return new ApflowError(ErrorCode.EXECUTOR_FAILED, message, details, { cause: error });
}

// ---- HTTP e-mail API ----

/** The message in the provider's JSON shape: our field names unless renamed, attachments in base64. */
function apiBody(message: Message, api: HttpTarget): JsonObject {
  const fields: Record<string, JsonValue | undefined> = {
    from: message.from,
    to: message.to,
    cc: message.cc.length > 0 ? message.cc : undefined,
    bcc: message.bcc.length > 0 ? message.bcc : undefined,
    replyTo: message.replyTo,
    subject: message.subject,
    text: message.text,
    html: message.html,
    attachments:
      message.attachments.length > 0
        ? message.attachments.map((a) => ({
            filename: a.filename,
            content: a.content.toString("base64"),
            ...(a.contentType ? { contentType: a.contentType } : {}),
          }))
        : undefined,
  };
  const body: JsonObject = { ...api.extraBody };
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined) body[api.fieldNames[name] ?? name] = value;
  return body;
}

async function sendHttp(
  message: Message,
  api: HttpTarget,
  options: SendEmailExecutorOptions,
  signal: AbortSignal,
): Promise<SendEmailResult> {
  const checked = api.fromTask
    ? await checkUrlAs(api.url, guardOptions(options.allowPrivateUrls, options), ID)
    : { url: api.url, addresses: null };
  signal.throwIfAborted();
  const body = Buffer.from(JSON.stringify(apiBody(message, api)));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "user-agent": "apflow",
  };
  if (api.apiKey !== undefined) {
    headers[api.apiKeyHeader] = api.apiKeyHeader === "authorization" ? `Bearer ${api.apiKey}` : api.apiKey;
  }
  const shown = shownUrl(api.url);
  const response = await requestPinned(
    checked,
    { method: "POST", headers, body },
    signal,
    (error) =>
      new ApflowError(ErrorCode.EXECUTOR_FAILED, `POST ${shown} failed: ${error.message}`, {
        code: error.code ?? null,
      }),
  );
  const text = await readText(response, MAX_RESPONSE_BYTES);
  let answer: JsonValue = text;
  try {
    answer = text.trim() === "" ? null : (JSON.parse(text) as JsonValue);
  } catch {
    // Not JSON: kept as text for the error details.
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    const excerpt = typeof answer === "string" ? answer : JSON.stringify(redactSecrets(answer));
    throw new ApflowError(ErrorCode.EXECUTOR_FAILED, `e-mail API ${shown} answered HTTP ${status}`, {
      status,
      url: shown,
      body: excerpt.length > ERROR_BODY_CHARS ? `${excerpt.slice(0, ERROR_BODY_CHARS)}...` : excerpt,
    });
  }
  return apiResult(message, answer, api);
}

/** accepted/rejected as the provider says, or every recipient accepted when it does not say. */
function apiResult(message: Message, answer: JsonValue, api: HttpTarget): SendEmailResult {
  const object = isJsonObject(answer) ? answer : {};
  const idField = api.messageIdField ?? MESSAGE_ID_FIELDS.find((field) => object[field] !== undefined);
  const id = idField === undefined ? undefined : object[idField];
  const list = (value: JsonValue | undefined) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : undefined;
  const all = bareAddresses([...message.to, ...message.cc, ...message.bcc]);
  const rejected = list(object.rejected) ?? [];
  return {
    messageId: typeof id === "string" || typeof id === "number" ? String(id) : null,
    accepted: list(object.accepted) ?? all.filter((address) => !rejected.includes(address)),
    rejected,
  };
}

/** `Ann <ann@example.com>, bob@example.com` -> the bare addresses, as SMTP reports them. */
function bareAddresses(values: string[]): string[] {
  const out: string[] = [];
  const walk = (entries: ReturnType<typeof addressparser>) => {
    for (const entry of entries) {
      if (entry.group) walk(entry.group);
      else if (entry.address) out.push(entry.address);
    }
  };
  for (const value of values) walk(addressparser(value));
  return out;
}
