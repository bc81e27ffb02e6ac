/**
 * Signatures of webhook calls that trigger a schedule: HMAC-SHA256 with a shared
 * secret over `${timestamp}.${payload}`, sent as "sha256=<hex>" with the timestamp in
 * unix seconds (the schedule webhook's payload is `<taskId>.<body>`). Signing the timestamp with the body bounds how long a captured
 * request can be replayed; refusing a signature seen before is the runtime's job.
 *
 * Sign a request from a shell:
 *   ts=$(date +%s); sig=$(printf '%s.%s.%s' "$ts" "$task_id" "$body" | openssl dgst -sha256 -hmac "$secret" -hex | sed 's/.* //')
 *   curl -H "X-Apflow-Timestamp: $ts" -H "X-Apflow-Signature: sha256=$sig" --data "$body" ...
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** "sha256=<hex>" over `${timestampSeconds}.${body}`. */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${hmacHex(secret, `${timestampSeconds}.${body}`)}`;
}

export type WebhookCheck = { ok: true; timestampSeconds: number } | { ok: false; reason: string };

const SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/**
 * Checks a webhook's signature and timestamp. Fails closed: no secret configured,
 * a missing or garbled header, a timestamp that is not whole seconds, older than
 * `toleranceMs` or more than `toleranceMs` ahead, or a signature that does not match
 * all give ok: false with a reason that says what to fix. The reason never contains
 * the expected signature; the comparison takes the same time wherever it differs.
 */
export function verifyWebhook(args: {
  secret: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  now: Date;
  toleranceMs: number;
}): WebhookCheck {
  if (!args.secret) {
    return { ok: false, reason: "no webhook secret is configured, so no webhook is accepted; configure one" };
  }
  const timestamp = args.timestamp?.trim();
  if (!timestamp)
    return { ok: false, reason: "the X-Apflow-Timestamp header is missing; send the unix time in seconds" };
  if (!/^\d{1,15}$/.test(timestamp)) {
    return { ok: false, reason: "the X-Apflow-Timestamp header is not a unix time in whole seconds" };
  }
  const signature = args.signature?.trim();
  if (!signature) {
    return { ok: false, reason: 'the X-Apflow-Signature header is missing; send "sha256=" and the hex HMAC-SHA256' };
  }
  const match = SIGNATURE.exec(signature);
  if (!match) {
    return { ok: false, reason: 'the X-Apflow-Signature header is not "sha256=" followed by 64 hex digits' };
  }
  const timestampSeconds = Number(timestamp);
  const ageMs = args.now.getTime() - timestampSeconds * 1000;
  const toleranceSeconds = Math.round(args.toleranceMs / 1000);
  if (ageMs > args.toleranceMs) {
    return {
      ok: false,
      reason: `the timestamp is ${Math.round(ageMs / 1000)}s old, more than the ${toleranceSeconds}s allowed; sign each request when sending it, with a correct clock`,
    };
  }
  if (-ageMs > args.toleranceMs) {
    return {
      ok: false,
      reason: `the timestamp is ${Math.round(-ageMs / 1000)}s in the future, more than the ${toleranceSeconds}s allowed; check the sender's clock`,
    };
  }
  const expected = Buffer.from(hmacHex(args.secret, `${timestamp}.${args.body}`), "hex");
  const given = Buffer.from(match[1]!, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      ok: false,
      reason:
        'the signature does not match; sign "<timestamp>.<body>" (the header value, a dot, the exact body sent) with HMAC-SHA256 and the shared secret',
    };
  }
  return { ok: true, timestampSeconds };
}

function hmacHex(secret: string, message: string): string {
  return createHmac("sha256", secret).update(message, "utf8").digest("hex");
}
