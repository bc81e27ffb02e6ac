/**
 * `POST /webhooks/schedules/<taskId>`: runs a scheduled tree now, for a caller that
 * proves it holds the shared secret (APFLOW_WEBHOOK_SECRET). The request carries
 * `X-Apflow-Timestamp` (unix seconds) and `X-Apflow-Signature: sha256=<hex>`, the
 * HMAC-SHA256 of `<timestamp>.<taskId>.<body>`: the task id is signed too, so a
 * captured request cannot be redirected to another schedule, and two schedules
 * triggered with the same body in the same second do not look like a replay.
 * Checks, in order, each answered with JSON
 * `{ error: { code, message } }`:
 *
 *   no secret configured              503 (fails closed: the webhook is off)
 *   bad, missing or old signature     401
 *   signature seen before (replay)    409, on every node of a cluster
 *   over the rate of the schedule     429 with Retry-After, counted on every node
 *   no such task, or no schedule      404
 *   tree still running, schedule off  409
 *   otherwise                         202 { taskId, runCount }
 *
 * Neither the secret nor a signature is ever logged.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, isApflowError } from "../core/errors.js";
import type { Logger } from "../core/executor.js";
import { verifyWebhook } from "../core/schedule/index.js";
import type { ScheduleService } from "../core/schedule-service.js";

export const WEBHOOK_PATH_PREFIX = "/webhooks/schedules/";

/** Webhook bodies are small notifications; anything larger is refused unread. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;

export interface WebhookSettings {
  /** Unset: every request is refused with 503. */
  secret: string | undefined;
  /** Largest age (or lead) of a timestamp. */
  toleranceMs: number;
  /** Triggers accepted per schedule per minute, across the cluster. */
  ratePerMinute: number;
}

export interface WebhookOptions {
  schedules: ScheduleService;
  settings: WebhookSettings;
  /** Records a signature's hash for `keepMs`; false when it was already recorded (a replay). */
  rememberSignature(signatureHash: string, keepMs: number): Promise<boolean>;
  /** Takes one trigger of `key`'s allowance: 0 when allowed, otherwise the milliseconds until one is. */
  takeRate(key: string, perMinute: number): Promise<number>;
  logger: Logger;
  now?: () => Date;
}

/** Answers one webhook request (the caller routes requests under WEBHOOK_PATH_PREFIX here); never rejects. */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createScheduleWebhook(options: WebhookOptions): WebhookHandler {
  const { settings, logger } = options;
  const now = options.now ?? (() => new Date());

  const handle: WebhookHandler = async (req, res) => {
    const taskId = taskIdOf(req.url ?? "");
    if (req.method !== "POST") {
      return send(res, 405, ErrorCode.VALIDATION_ERROR, "Use POST to trigger a schedule.", { allow: "POST" });
    }
    if (taskId === null) {
      return send(res, 404, ErrorCode.NOT_FOUND, `Post to ${WEBHOOK_PATH_PREFIX}<task id> (a scheduled root task).`);
    }
    if (!settings.secret) {
      return send(
        res,
        503,
        ErrorCode.UNAVAILABLE,
        "The schedule webhook is off: set APFLOW_WEBHOOK_SECRET (16+ characters) on the server to accept signed requests.",
      );
    }
    if (req.headers["transfer-encoding"] !== undefined) {
      return send(res, 411, "REQUEST_LENGTH_REQUIRED", "Send the webhook body with a Content-Length header.", {
        connection: "close",
      });
    }
    if (Number(req.headers["content-length"] ?? 0) > WEBHOOK_MAX_BODY_BYTES) {
      return send(
        res,
        413,
        "REQUEST_TOO_LARGE",
        `The webhook body is over ${WEBHOOK_MAX_BODY_BYTES} bytes; send a small JSON body, or none.`,
        { connection: "close" },
      );
    }
    const body = await readBody(req);
    const check = verifyWebhook({
      secret: settings.secret,
      timestamp: header(req, "x-apflow-timestamp"),
      signature: header(req, "x-apflow-signature"),
      body: `${taskId}.${body}`,
      now: now(),
      toleranceMs: settings.toleranceMs,
    });
    if (!check.ok) {
      logger.warn("webhook refused: bad signature", { taskId, reason: check.reason });
      return send(res, 401, ErrorCode.UNAUTHENTICATED, check.reason);
    }
    const signatureHash = createHash("sha256")
      .update(header(req, "x-apflow-signature")!.trim().toLowerCase())
      .digest("hex");
    // Kept twice the tolerance: a timestamp may also be ahead by up to the tolerance.
    if (!(await options.rememberSignature(signatureHash, 2 * settings.toleranceMs))) {
      logger.warn("webhook refused: replayed signature", { taskId });
      return send(
        res,
        409,
        ErrorCode.CONFLICT,
        "This signature was already used: sign every request anew, with the current timestamp.",
      );
    }
    const waitMs = await options.takeRate(taskId, settings.ratePerMinute);
    if (waitMs > 0) {
      const retryAfter = Math.ceil(waitMs / 1000);
      return send(
        res,
        429,
        ErrorCode.RATE_LIMITED,
        `More than ${settings.ratePerMinute} webhook triggers a minute for this schedule; retry in ${retryAfter}s (APFLOW_WEBHOOK_RATE_LIMIT raises the limit).`,
        { "retry-after": String(retryAfter) },
      );
    }
    try {
      const task = await options.schedules.trigger(taskId, { source: "webhook" });
      logger.info("webhook triggered a schedule", { taskId });
      sendJson(res, 202, { taskId: task.id, runCount: task.schedule?.runCount ?? 0 });
    } catch (error) {
      if (isApflowError(error, ErrorCode.NOT_FOUND)) return send(res, 404, error.code, error.message);
      if (isApflowError(error, ErrorCode.CONFLICT)) return send(res, 409, error.code, error.message);
      throw error;
    }
  };

  return async (req, res) => {
    try {
      await handle(req, res);
    } catch (error) {
      logger.error("webhook request failed", { url: req.url, error });
      if (res.headersSent) res.destroy();
      else send(res, 500, "INTERNAL_SERVER_ERROR", "Unexpected error; the server log has the details.");
    }
  };
}

/** The task id in `/webhooks/schedules/<id>` (URL-decoded), or null. */
function taskIdOf(url: string): string | null {
  const path = url.split("?")[0]!;
  const raw = path.slice(WEBHOOK_PATH_PREFIX.length);
  if (!path.startsWith(WEBHOOK_PATH_PREFIX) || raw === "" || raw.includes("/")) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The body as text; its Content-Length, already checked against the cap, bounds it. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function send(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
