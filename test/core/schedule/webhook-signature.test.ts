/** Webhook signatures: HMAC-SHA256 over `${timestamp}.${body}`, checked fail-closed. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook, type WebhookCheck } from "../../../src/core/schedule/index.js";

const secret = "s3cret-shared-with-the-sender";
const now = new Date("2026-01-10T12:00:00Z");
const nowSeconds = now.getTime() / 1000;
const body = '{"reason":"deploy finished"}';
const toleranceMs = 300_000;

function check(overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {}): WebhookCheck {
  return verifyWebhook({
    secret,
    timestamp: String(nowSeconds),
    signature: signWebhook(secret, nowSeconds, body),
    body,
    now,
    toleranceMs,
    ...overrides,
  });
}

function reason(result: WebhookCheck): string {
  expect(result.ok).toBe(false);
  return result.ok ? "" : result.reason;
}

describe("webhook signatures", () => {
  it("signs with HMAC-SHA256 over timestamp, dot, body", () => {
    const expected = createHmac("sha256", secret).update(`${nowSeconds}.${body}`).digest("hex");
    expect(signWebhook(secret, nowSeconds, body)).toBe(`sha256=${expected}`);
  });

  it("accepts a valid signature, also with upper-case hex, and an empty body", () => {
    expect(check()).toEqual({ ok: true, timestampSeconds: nowSeconds });
    const hex = signWebhook(secret, nowSeconds, body).slice("sha256=".length);
    expect(check({ signature: `sha256=${hex.toUpperCase()}` }).ok).toBe(true);
    expect(check({ body: "", signature: signWebhook(secret, nowSeconds, "") }).ok).toBe(true);
  });

  it("rejects a wrong secret and a tampered body, without revealing the expected signature", () => {
    const expected = signWebhook(secret, nowSeconds, body);
    const wrongSecret = reason(check({ signature: signWebhook("another secret", nowSeconds, body) }));
    expect(wrongSecret).toMatch(/^the signature does not match; sign "<timestamp>.<body>"/);
    expect(wrongSecret).not.toContain(expected.slice(7));
    expect(reason(check({ body: '{"reason":"deploy FAILED"}' }))).toMatch(/signature does not match/);
    // The timestamp is signed too: moving it breaks the signature.
    expect(reason(check({ timestamp: String(nowSeconds - 1) }))).toMatch(/signature does not match/);
  });

  it("rejects timestamps older or further ahead than the tolerance, accepting its edges", () => {
    const at = (seconds: number) => ({ timestamp: String(seconds), signature: signWebhook(secret, seconds, body) });
    expect(check(at(nowSeconds - 300)).ok).toBe(true);
    expect(check(at(nowSeconds + 300)).ok).toBe(true);
    expect(reason(check(at(nowSeconds - 301)))).toBe(
      "the timestamp is 301s old, more than the 300s allowed; sign each request when sending it, with a correct clock",
    );
    expect(reason(check(at(nowSeconds + 3600)))).toBe(
      "the timestamp is 3600s in the future, more than the 300s allowed; check the sender's clock",
    );
  });

  it("fails closed without a secret, and on missing or garbled headers", () => {
    expect(reason(check({ secret: undefined }))).toMatch(/no webhook secret is configured/);
    expect(reason(check({ secret: "" }))).toMatch(/no webhook secret is configured/);
    expect(reason(check({ timestamp: undefined }))).toMatch(/X-Apflow-Timestamp header is missing/);
    expect(reason(check({ timestamp: " " }))).toMatch(/X-Apflow-Timestamp header is missing/);
    for (const timestamp of ["1768046400.5", "-1768046400", "1e9", "yesterday"]) {
      expect(reason(check({ timestamp }))).toBe("the X-Apflow-Timestamp header is not a unix time in whole seconds");
    }
    expect(reason(check({ signature: undefined }))).toMatch(/X-Apflow-Signature header is missing/);
    const garbled = 'the X-Apflow-Signature header is not "sha256=" followed by 64 hex digits';
    const hex = signWebhook(secret, nowSeconds, body).slice(7);
    for (const signature of [
      hex,
      `sha1=${hex}`,
      `sha256=${hex.slice(2)}`,
      `sha256=${hex}00`,
      `sha256=${"z".repeat(64)}`,
    ]) {
      expect(reason(check({ signature }))).toBe(garbled);
    }
  });
});
