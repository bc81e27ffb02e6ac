/**
 * The schedule webhook over real HTTP: a signed request runs the tree (202); bad
 * signatures (wrong secret, tampered body, old timestamp, missing headers) get 401,
 * a replay 409, too many triggers 429 (counted on every server of the database), an
 * unknown schedule 404, a running tree 409,
 * and with no secret configured every request gets 503. Nothing secret is logged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineExecutor } from "../../src/core/executor.js";
import { createLogger } from "../../src/core/logger.js";
import { signWebhook } from "../../src/core/schedule/index.js";
import { buildApp } from "../../src/server/app.js";
import { useTestServer } from "../support/server.js";

const SECRET = "webhook-secret-for-tests-0123456789";
const TOLERANCE_MS = 300_000;

describe("the schedule webhook", () => {
  const logLines: string[] = [];
  /** Resolvers of running `test_hold` tasks, by task name. */
  const held = new Map<string, () => void>();
  const s = useTestServer("pglite", {
    apflow: {
      scheduler: { enabled: false, intervalMs: 1_000, missedRuns: "run_once" },
      webhook: { secret: SECRET, toleranceMs: TOLERANCE_MS, ratePerMinute: 2 },
      logger: createLogger("debug", {}, (line) => logLines.push(line)),
      executors: [
        defineExecutor({
          id: "test_hold",
          description: "runs until the test releases it",
          inputSchema: { type: "object" },
          execute: (_inputs, ctx) => new Promise((resolve) => held.set(ctx.task.name, () => resolve({ ok: true }))),
        }),
      ],
    },
  });
  let origin: string;

  beforeAll(() => {
    origin = new URL(s.url).origin;
  });
  // afterAll hooks run in reverse order: held tasks are released before the server closes.
  afterAll(() => {
    for (const release of held.values()) release();
  });

  const scheduledTree = async (name: string, executor = "system_info_executor") => {
    const root = await s.apflow.createTree([{ name, executor, inputs: { resource: "cpu" } }]);
    await s.apflow.schedules.set(root.id, { type: "interval", expression: "1h" });
    return root.id;
  };

  interface Reply {
    taskId?: string;
    runCount?: number;
    error: { code: string; message: string };
  }

  interface Send {
    body?: string;
    secret?: string;
    /** Unix seconds; default now. */
    timestamp?: number;
    /** Signs this body instead of the one sent. */
    signedBody?: string;
    /** Signs for this task id instead of the one posted to. */
    signedFor?: string;
    headers?: Record<string, string>;
    base?: string;
  }

  /** Runs `fn` with the origin of a second server on the same database and its own webhook settings. */
  const withSecondServer = async (
    webhook: { secret: string | undefined; ratePerMinute: number },
    fn: (base: string) => Promise<void>,
  ) => {
    const app = buildApp({ apflow: s.apflow, port: 0, webhook: { ...webhook, toleranceMs: TOLERANCE_MS } });
    const base = new URL(await app.start()).origin;
    try {
      await fn(base);
    } finally {
      await app.stop();
    }
  };

  /** Signs (unless told otherwise) and posts; returns the status, headers and JSON body. */
  const post = async (taskId: string, options: Send = {}) => {
    const body = options.body ?? JSON.stringify({ event: "push" });
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const signature = signWebhook(
      options.secret ?? SECRET,
      timestamp,
      `${options.signedFor ?? taskId}.${options.signedBody ?? body}`,
    );
    const headers = options.headers ?? {
      "content-type": "application/json",
      "x-apflow-timestamp": String(timestamp),
      "x-apflow-signature": signature,
    };
    const response = await fetch(`${options.base ?? origin}/webhooks/schedules/${encodeURIComponent(taskId)}`, {
      method: "POST",
      headers,
      body,
    });
    return { status: response.status, headers: response.headers, json: (await response.json()) as Reply, signature };
  };

  it("runs the scheduled tree for a valid signature (202), counted as a webhook run", async () => {
    const id = await scheduledTree("deploy");
    const accepted = await post(id);
    expect(accepted.status).toBe(202);
    expect(accepted.json).toEqual({ taskId: id, runCount: 1 });
    const [root] = await s.apflow.waitForTree(id);
    expect(root!.status).toBe("completed");
    const events = await s.apflow.events(id);
    expect(events.find((e) => e.type === "schedule_run")).toMatchObject({ data: { source: "webhook", runCount: 1 } });
    // Neither the secret nor the signature ever reaches the log.
    expect(logLines.some((line) => line.includes("webhook triggered a schedule"))).toBe(true);
    expect(logLines.filter((line) => line.includes(SECRET) || line.includes(accepted.signature.slice(7)))).toEqual([]);
  });

  it("refuses bad signatures with 401: wrong secret, tampered body, old timestamp, missing headers", async () => {
    const id = await scheduledTree("guarded");
    const cases = [
      await post(id, { secret: "another-secret-of-enough-length" }),
      await post(id, { body: '{"event":"push","ref":"evil"}', signedBody: '{"event":"push","ref":"main"}' }),
      // A request signed for another schedule cannot be redirected to this one.
      await post(id, { signedFor: "some-other-schedule" }),
      await post(id, { timestamp: Math.floor((Date.now() - TOLERANCE_MS) / 1000) - 10 }),
      await post(id, { headers: { "content-type": "application/json" } }),
      await post(id, { headers: { "x-apflow-timestamp": String(Math.floor(Date.now() / 1000)) } }),
    ];
    for (const refused of cases) {
      expect(refused.status).toBe(401);
      expect(refused.json.error.code).toBe("UNAUTHENTICATED");
    }
    expect(cases[3]!.json.error.message).toContain("old");
    expect(cases[4]!.json.error.message).toContain("X-Apflow-Timestamp");
    expect((await s.apflow.getTask(id))!.schedule!.runCount).toBe(0);
  });

  it("accepts the same body for two schedules in the same second: the signature covers the task id", async () => {
    const first = await scheduledTree("nightly-a");
    const second = await scheduledTree("nightly-b");
    const timestamp = Math.floor(Date.now() / 1000);
    expect((await post(first, { timestamp, body: "" })).status).toBe(202);
    expect((await post(second, { timestamp, body: "" })).status).toBe(202);
    await Promise.all([s.apflow.waitForTree(first), s.apflow.waitForTree(second)]);
  });

  it("refuses a replayed request with 409, on the same signature however it is resent", async () => {
    const id = await scheduledTree("once-only");
    const timestamp = Math.floor(Date.now() / 1000);
    expect((await post(id, { timestamp })).status).toBe(202);
    const replay = await post(id, { timestamp });
    expect(replay.status).toBe(409);
    expect(replay.json.error).toMatchObject({ code: "CONFLICT", message: expect.stringContaining("already used") });
    await s.apflow.waitForTree(id);
    expect((await s.apflow.getTask(id))!.schedule!.runCount).toBe(1);
  });

  it("limits triggers per schedule (429 with Retry-After), 404s unknown schedules, 409s a running tree", async () => {
    const id = await scheduledTree("busy", "test_hold");
    // Three timestamps from one reading of the clock: three different signatures, even
    // when a second ends between the requests (read anew, two could coincide: a replay).
    const now = Math.floor(Date.now() / 1000);
    expect((await post(id, { timestamp: now })).status).toBe(202);
    const running = await post(id, { timestamp: now - 1 });
    expect(running.status).toBe(409);
    expect(running.json.error.message).toContain("still running");
    const limited = await post(id, { timestamp: now - 2 });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);

    expect((await post("no-such-task")).status).toBe(404);
    const plain = await s.apflow.createTree([{ name: "plain", executor: "system_info_executor" }]);
    const unscheduled = await post(plain.id);
    expect(unscheduled.status).toBe(404);
    expect(unscheduled.json.error.message).toContain("has no schedule");
  });

  it("counts a schedule's triggers on every server of the database: a second server refuses the third", async () => {
    await withSecondServer({ secret: SECRET, ratePerMinute: 2 }, async (base) => {
      const id = await scheduledTree("shared-limit", "test_hold");
      const now = Math.floor(Date.now() / 1000);
      expect((await post(id, { timestamp: now })).status).toBe(202);
      // The second server sees the same allowance: one left (spent on a 409), then none.
      expect((await post(id, { base, timestamp: now - 1 })).status).toBe(409);
      const limited = await post(id, { base, timestamp: now - 2 });
      expect(limited.status).toBe(429);
      expect(limited.json.error.code).toBe("RATE_LIMITED");
    });
  });

  it("fails closed with 503 when no secret is configured", async () => {
    await withSecondServer({ secret: undefined, ratePerMinute: 10 }, async (base) => {
      const id = await scheduledTree("closed");
      const refused = await post(id, { base });
      expect(refused.status).toBe(503);
      expect(refused.json.error.message).toContain("APFLOW_WEBHOOK_SECRET");
      expect((await s.apflow.getTask(id))!.schedule!.runCount).toBe(0);
    });
  });
});
