import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import {
  createSendEmailExecutor,
  type SendEmailExecutorOptions,
  type SendEmailResult,
} from "../../src/executors/send-email.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import {
  type EmailApiPeer,
  type SmtpPeer,
  startEmailApiPeer,
  startSilentServer,
  startSmtpPeer,
} from "./peers/mail-peers.js";

const USER = "ann";
const PASSWORD = "correct-horse-battery";
let open: SmtpPeer;
let authed: SmtpPeer;
let api: EmailApiPeer;

beforeAll(async () => {
  [open, authed, api] = await Promise.all([
    startSmtpPeer(),
    startSmtpPeer({ user: USER, password: PASSWORD }),
    startEmailApiPeer(),
  ]);
});
afterAll(async () => {
  await Promise.all([open.close(), authed.close(), api.close()]);
});

// The peers listen on loopback, which the guards refuse by default (tested below).
const email = createSendEmailExecutor({ allowPrivateHosts: true, allowPrivateUrls: true });

async function send(inputs: JsonObject, executor = email, ctx = fakeContext()): Promise<SendEmailResult> {
  return (await executor.execute(inputs, ctx)) as SendEmailResult;
}

async function failure(inputs: JsonObject, executor = email, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

const smtp = (peer: SmtpPeer, more: JsonObject = {}) => ({ host: "127.0.0.1", port: peer.port, ...more });

describe("send_email_executor over SMTP", () => {
  it("sends a text message to to, cc and bcc, with bcc only in the envelope", async () => {
    const result = await send({
      smtp: smtp(open),
      from: "Ops <ops@example.com>",
      to: "Ann <ann@example.com>, bob@example.com",
      cc: ["carol@example.com"],
      bcc: "dave@example.com",
      subject: "Nightly report",
      text: "All tasks completed.",
    });
    expect(result.accepted).toEqual(["ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]);
    expect(result.rejected).toEqual([]);
    const mail = open.messages.at(-1)!;
    expect(mail.mailFrom).toBe("ops@example.com");
    expect(mail.rcptTo).toEqual(result.accepted);
    expect(mail.user).toBeNull();
    expect(mail.headers.from).toBe("Ops <ops@example.com>");
    expect(mail.headers.to).toBe("Ann <ann@example.com>, bob@example.com");
    expect(mail.headers.cc).toBe("carol@example.com");
    expect(mail.headers.bcc).toBeUndefined();
    expect(mail.headers.subject).toBe("Nightly report");
    expect(mail.headers["content-type"]).toMatch(/^text\/plain/);
    expect(mail.headers["message-id"]).toBe(result.messageId);
    expect(mail.body.trim()).toBe("All tasks completed.");
  });

  it("sends html with text and base64 or text attachments", async () => {
    const pdfBytes = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]);
    await send({
      smtp: smtp(open),
      from: "ops@example.com",
      to: "ann@example.com",
      subject: "With files",
      text: "see attached",
      html: "<p>see <b>attached</b></p>",
      attachments: [
        { filename: "notes.txt", content: "line one\nline two" },
        { filename: "report.pdf", content: pdfBytes.toString("base64"), encoding: "base64" },
        { filename: "data.bin", content: "AAEC", encoding: "base64", contentType: "application/x-test" },
      ],
    });
    const mail = open.messages.at(-1)!;
    expect(mail.headers["content-type"]).toMatch(/^multipart\/mixed/);
    expect(mail.raw).toContain("<p>see <b>attached</b></p>");
    expect(mail.raw).toMatch(/Content-Type: text\/plain; name=notes\.txt/);
    expect(mail.raw).toContain(Buffer.from("line one\nline two").toString("base64"));
    expect(mail.raw).toMatch(/Content-Type: application\/pdf; name=report\.pdf/);
    expect(mail.raw).toContain(pdfBytes.toString("base64"));
    expect(mail.raw).toMatch(/Content-Type: application\/x-test; name=data\.bin/);
  });

  it("logs in with the task's credentials", async () => {
    const result = await send({
      smtp: smtp(authed, { user: USER, password: PASSWORD }),
      from: "ops@example.com",
      to: "ann@example.com",
      text: "hi",
    });
    expect(result.accepted).toEqual(["ann@example.com"]);
    expect(authed.messages.at(-1)!.user).toBe(USER);
  });

  it("fails on a wrong password without showing it anywhere", async () => {
    const ctx = fakeContext();
    const error = await failure(
      {
        smtp: smtp(authed, { user: USER, password: "wrong-password-123" }),
        from: "ops@example.com",
        to: "ann@example.com",
        text: "hi",
      },
      email,
      ctx,
    );
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain(`SMTP login as ${USER} at 127.0.0.1:${authed.port} failed`);
    expect(error.details).toMatchObject({ code: "EAUTH", responseCode: 535 });
    const everything = JSON.stringify([error.message, error.details, ctx.logs]);
    expect(everything).not.toContain("wrong-password-123");
    expect(everything).not.toContain(Buffer.from(`\0${USER}\0wrong-password-123`).toString("base64"));
  });

  it("fails when login is required and none is given", async () => {
    const error = await failure({ smtp: smtp(authed), from: "ops@example.com", to: "ann@example.com", text: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.details?.responseCode).toBe(530);
  });

  it("returns refused recipients, and fails when every recipient is refused", async () => {
    const result = await send({
      smtp: smtp(open),
      from: "ops@example.com",
      to: ["ann@example.com", "nobody@example.com"],
      text: "x",
    });
    expect(result.accepted).toEqual(["ann@example.com"]);
    expect(result.rejected).toEqual(["nobody@example.com"]);
    expect(open.messages.at(-1)!.rcptTo).toEqual(["ann@example.com"]);

    const error = await failure({ smtp: smtp(open), from: "ops@example.com", to: "nobody@example.com", text: "x" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("refused the message");
    expect(error.details).toMatchObject({ code: "EENVELOPE", rejected: ["nobody@example.com"] });
  });

  it("uses the node's server, credentials and sender when the task names none", async () => {
    const node = createSendEmailExecutor({
      smtp: { host: "127.0.0.1", port: authed.port, user: USER, password: PASSWORD },
      from: "apflow@example.com",
    });
    await send({ to: "ann@example.com", subject: "default", text: "x" }, node);
    const mail = authed.messages.at(-1)!;
    expect(mail).toMatchObject({ mailFrom: "apflow@example.com", user: USER });
  });

  it("never lends the node's credentials to a host the task chose", async () => {
    const node = createSendEmailExecutor({
      smtp: { host: "127.0.0.1", port: authed.port, user: USER, password: PASSWORD },
      allowPrivateHosts: true,
    });
    const error = await failure(
      { smtp: { host: "localhost", port: authed.port }, from: "x@example.com", to: "ann@example.com" },
      node,
    );
    expect(error.details?.responseCode).toBe(530);
  });

  it("fails with TIMEOUT when the server never answers, and stops when cancelled", async () => {
    const silent = await startSilentServer();
    try {
      const inputs = { smtp: { host: "127.0.0.1", port: silent.port }, from: "a@example.com", to: "b@example.com" };
      const started = Date.now();
      const error = await failure({ ...inputs, timeoutMs: 200 });
      expect(error.code).toBe("TIMEOUT");
      expect(Date.now() - started).toBeLessThan(3000);
      const controller = new AbortController();
      const reason = new Error("cancelled");
      setTimeout(() => controller.abort(reason), 50);
      expect(await caught(() => email.execute(inputs, fakeContext({ signal: controller.signal })))).toBe(reason);
    } finally {
      await silent.close();
    }
  });
});

describe("send_email_executor SMTP host guard", () => {
  const guarded = createSendEmailExecutor();

  it.each(["127.0.0.1", "localhost", "[::1]", "169.254.169.254"])("refuses %s without connecting", async (host) => {
    const before = open.connections;
    const error = await failure(
      { smtp: { host, port: open.port }, from: "a@example.com", to: "b@example.com" },
      guarded,
    );
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("APFLOW_REST_ALLOW_PRIVATE_URLS=1");
    expect(open.connections).toBe(before);
  });

  it("trusts the node's own server, and connects to the address it checked", async () => {
    const node = createSendEmailExecutor({ smtp: { host: "127.0.0.1", port: open.port } });
    await send({ from: "a@example.com", to: "b@example.com", text: "node" }, node);
    expect(open.messages.at(-1)!.body.trim()).toBe("node");

    let resolutions = 0;
    const pinned = createSendEmailExecutor({
      allowedHosts: ["mail.example.test"],
      resolve: async () => {
        resolutions++;
        return [{ address: "127.0.0.1", family: 4 }];
      },
    });
    await send(
      { smtp: { host: "mail.example.test", port: open.port }, from: "a@example.com", to: "b@example.com", text: "p" },
      pinned,
    );
    expect(open.messages.at(-1)!.body.trim()).toBe("p");
    expect(resolutions).toBe(1);
  });
});

describe("send_email_executor through an HTTP API", () => {
  it("POSTs the message as JSON with a bearer key and returns the provider's id", async () => {
    const result = await send({
      provider: "http",
      url: `${api.origin}/send`,
      apiKey: "re_key_123",
      from: "ops@example.com",
      to: ["Ann <ann@example.com>"],
      bcc: "bob@example.com",
      subject: "Hi",
      html: "<p>hi</p>",
      attachments: [{ filename: "a.txt", content: "abc" }],
    });
    expect(result).toEqual({ messageId: "msg_123", accepted: ["ann@example.com", "bob@example.com"], rejected: [] });
    const request = api.requests.at(-1)!;
    expect(request.headers.authorization).toBe("Bearer re_key_123");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.body).toEqual({
      from: "ops@example.com",
      to: ["Ann <ann@example.com>"],
      bcc: ["bob@example.com"],
      subject: "Hi",
      html: "<p>hi</p>",
      attachments: [{ filename: "a.txt", content: Buffer.from("abc").toString("base64") }],
    });
  });

  it("renames fields, adds provider options and reads the id where the provider puts it", async () => {
    const result = await send({
      url: `${api.origin}/postmark`,
      apiKey: "pm-token",
      apiKeyHeader: "X-Postmark-Server-Token",
      fieldNames: { from: "From", to: "To", subject: "Subject", text: "TextBody" },
      extraBody: { MessageStream: "outbound", From: "ignored" },
      messageIdField: "MessageID",
      from: "ops@example.com",
      to: "ann@example.com",
      subject: "S",
      text: "T",
    });
    expect(result.messageId).toBe("pm-42");
    const request = api.requests.at(-1)!;
    expect(request.headers["x-postmark-server-token"]).toBe("pm-token");
    expect(request.headers.authorization).toBeUndefined();
    expect(request.body).toEqual({
      MessageStream: "outbound",
      From: "ops@example.com",
      To: ["ann@example.com"],
      Subject: "S",
      TextBody: "T",
    });
  });

  it("takes accepted and rejected from the provider's answer", async () => {
    const result = await send({
      url: `${api.origin}/partial`,
      from: "o@example.com",
      to: ["ann@example.com", "bad@example.com"],
    });
    expect(result).toEqual({ messageId: "msg_9", accepted: ["ann@example.com"], rejected: ["bad@example.com"] });
  });

  it("fails on an error status without ever showing the key, even when the provider echoes it", async () => {
    const ctx = fakeContext();
    const error = await failure(
      { url: `${api.origin}/unauthorized`, apiKey: "sk_live_secret", from: "o@example.com", to: "a@example.com" },
      email,
      ctx,
    );
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe(`e-mail API ${api.origin}/unauthorized answered HTTP 401`);
    expect(error.details?.status).toBe(401);
    expect(JSON.stringify([error.message, error.details, ctx.logs])).not.toContain("sk_live_secret");
  });

  it("uses the node's API and key when the task names no URL, but never sends that key elsewhere", async () => {
    const nodeOptions: SendEmailExecutorOptions = {
      http: { url: `${api.origin}/send`, apiKey: "node-key" },
      from: "node@example.com",
      allowPrivateUrls: true,
    };
    const node = createSendEmailExecutor(nodeOptions);
    expect((await send({ to: "a@example.com", text: "x" }, node)).messageId).toBe("msg_123");
    expect(api.requests.at(-1)!.headers.authorization).toBe("Bearer node-key");
    await send({ url: `${api.origin}/send`, to: "a@example.com" }, node);
    expect(api.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it("refuses a private URL chosen by the task, but trusts the node's own", async () => {
    const before = api.requests.length;
    const error = await failure(
      { url: `${api.origin}/send`, from: "o@example.com", to: "a@example.com" },
      createSendEmailExecutor(),
    );
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(error.message).toContain("send_email_executor refused");
    expect(error.message).toContain("APFLOW_REST_ALLOW_PRIVATE_URLS=1");
    expect(api.requests.length).toBe(before);
    const node = createSendEmailExecutor({ http: { url: `${api.origin}/send` } });
    expect((await send({ from: "o@example.com", to: "a@example.com" }, node)).messageId).toBe("msg_123");
  });

  it("times out on a provider that never answers", async () => {
    const error = await failure({
      url: `${api.origin}/slow`,
      from: "o@example.com",
      to: "a@example.com",
      timeoutMs: 150,
    });
    expect(error.code).toBe("TIMEOUT");
  });
});

describe("send_email_executor inputs", () => {
  it("lists every invalid input at once", async () => {
    const error = await failure({
      to: "not-an-address",
      cc: 5,
      attachments: [{ filename: "a", content: "!!", encoding: "base64" }, { content: "x" }],
      smtp: { port: 99999 },
      timeoutMs: 0,
    });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.attachments[0].content",
      "inputs.attachments[1]",
      "inputs.cc",
      "inputs.from",
      "inputs.smtp.host",
      "inputs.smtp.port",
      "inputs.timeoutMs",
      "inputs.to",
    ]);
  });

  it("needs a recipient and a URL for the http provider", async () => {
    const error = await failure({ provider: "http", from: "a@example.com" });
    expect(error.problems.map((p) => p.path).sort()).toEqual(["inputs.to", "inputs.url"]);
  });
});
