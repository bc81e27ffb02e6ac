import { type ChildProcess, spawn } from "node:child_process";
import { createHash, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createSshExecutor, type SshResult } from "../../src/executors/ssh.js";
import { isAlive } from "../support/processes.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";

const { Server, utils } = ssh2;

const USER = "alice";
const PASSWORD = "correct horse battery staple";
const PASSPHRASE = "key passphrase";
/**
 * An ed25519 key pair that ssh2 itself can read back. About 1 in 256 of the pairs
 * ssh2's generateKeyPairSync makes has a 31-byte public key (a leading zero byte
 * dropped) that its own parseKey rejects as malformed; such a pair made this suite
 * fail at random (seen in CI: "getPublicSSH is not a function").
 */
function keyPair(options?: Parameters<typeof utils.generateKeyPairSync>[1]) {
  for (;;) {
    const pair = options ? utils.generateKeyPairSync("ed25519", options) : utils.generateKeyPairSync("ed25519");
    if (!(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

const hostKey = keyPair();
const otherHostKey = keyPair();
const userKey = keyPair();
const encryptedUserKey = keyPair({ passphrase: PASSPHRASE, cipher: "aes256-cbc", rounds: 4 });
const strangerKey = keyPair();
const authorizedKeys = [userKey.public, encryptedUserKey.public].map((text) => utils.parseKey(text) as ssh2.ParsedKey);

function fingerprintOf(publicKey: string): string {
  const blob = (utils.parseKey(publicKey) as ssh2.ParsedKey).getPublicSSH();
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
const FINGERPRINT = fingerprintOf(hostKey.public);

/** One exec request as the test server saw it: the command runs as a real child process. */
interface Exec {
  command: string;
  env: Record<string, string>;
  child: ChildProcess;
  signals: string[];
  channelClosed: boolean;
}

const execs: Exec[] = [];
/** When false, the server ignores signal requests (as some servers do). */
let honourSignals = true;
let server: InstanceType<typeof Server>;
let port: number;

function startServer(): Promise<void> {
  server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on("error", () => {}); // clients that drop the connection mid-handshake
    client.on("authentication", (ctx) => {
      if (ctx.username !== USER) return ctx.reject();
      if (ctx.method === "password") return ctx.password === PASSWORD ? ctx.accept() : ctx.reject();
      if (ctx.method === "publickey") {
        const key = authorizedKeys.find(
          (k) =>
            k.type === ctx.key.algo &&
            k.getPublicSSH().length === ctx.key.data.length &&
            timingSafeEqual(k.getPublicSSH(), ctx.key.data),
        );
        if (!key) return ctx.reject();
        if (!ctx.signature) return ctx.accept(); // the client asks whether this key would do
        return key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject();
      }
      return ctx.reject(["password", "publickey"]);
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        const env: Record<string, string> = {};
        let current: Exec | undefined;
        // ssh2's Server ignores channel requests that come after the client's EOF; OpenSSH and
        // RFC 4254 do not. The executor sends EOF at once (no stdin), then signals when stopping.
        session.on("eof", () => {
          (session as unknown as { _ending: boolean })._ending = false;
        });
        session.on("env", (accept, _reject, info) => {
          env[info.key] = info.val;
          accept?.();
        });
        session.on("signal", (accept, _reject, info) => {
          accept?.();
          current?.signals.push(info.name);
          if (honourSignals && current?.child.pid)
            process.kill(-current.child.pid, `SIG${info.name}` as NodeJS.Signals);
        });
        session.on("exec", (accept, _reject, info) => {
          const stream = accept();
          const child = spawn("/bin/sh", ["-c", info.command], {
            env: { PATH: process.env.PATH, ...env },
            detached: true, // its own process group, so a signal reaches what it started too
          });
          const exec: Exec = { command: info.command, env: { ...env }, child, signals: [], channelClosed: false };
          current = exec;
          execs.push(exec);
          child.stdin.on("error", () => {});
          stream.pipe(child.stdin);
          child.stdout.pipe(stream, { end: false });
          child.stderr.pipe(stream.stderr, { end: false });
          child.on("close", (code, signal) => {
            if (signal) stream.exit(signal.replace(/^SIG/, ""), false, "");
            else stream.exit(code ?? 0);
            stream.end();
          });
          stream.on("close", () => {
            exec.channelClosed = true;
          });
        });
      });
    });
  });
  server.listen(0, "127.0.0.1");
  return once(server, "listening").then(() => {
    port = (server.address() as AddressInfo).port;
  });
}

beforeAll(startServer);
afterAll(async () => {
  for (const exec of execs) if (isAlive(exec.child.pid!)) process.kill(-exec.child.pid!, "SIGKILL");
  await new Promise((resolve) => server.close(resolve));
});

// These tests talk to a loopback server, which the guard refuses by default (tested below).
const ssh = createSshExecutor({ allowPrivateHosts: true, killGraceMs: 500 });

const login = () => ({
  host: "127.0.0.1",
  port,
  username: USER,
  password: PASSWORD,
  hostKeyFingerprint: FINGERPRINT,
});

async function run(inputs: JsonObject, executor = ssh, ctx = fakeContext()): Promise<SshResult> {
  return (await executor.execute({ ...login(), ...inputs }, ctx)) as SshResult;
}

async function failure(inputs: JsonObject, executor = ssh, ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute({ ...login(), ...inputs }, ctx));
}

describe("ssh_executor commands", () => {
  it("runs a command with a password and returns its output", async () => {
    const result = await run({ command: "echo hello; echo oops >&2" });
    expect(result).toMatchObject({ exitCode: 0, signal: null, stdout: "hello\n", stderr: "oops\n", truncated: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("logs in with a private key, and with an encrypted one and its passphrase", async () => {
    const plain = { password: null, privateKey: userKey.private };
    expect((await run({ ...plain, command: "echo key" })).stdout).toBe("key\n");
    const encrypted = { password: null, privateKey: encryptedUserKey.private, passphrase: PASSPHRASE };
    expect((await run({ ...encrypted, command: "echo encrypted" })).stdout).toBe("encrypted\n");
  });

  it("passes env and stdin", async () => {
    const result = await run({ command: 'echo "$GREETING"; cat', env: { GREETING: "hi" }, stdin: "line 1\nline 2" });
    expect(result.stdout).toBe("hi\nline 1\nline 2");
    expect(execs.at(-1)!.env).toMatchObject({ GREETING: "hi" });
  });

  it("gives the command end-of-file when there is no stdin", async () => {
    expect((await run({ command: "cat; echo done" })).stdout).toBe("done\n");
  });

  it("fails on a non-zero exit with the code and stderr tail, unless allowed", async () => {
    const error = await failure({ command: "echo out; echo bad >&2; exit 3" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe("remote command exited with code 3: bad");
    expect(error.details).toMatchObject({ exitCode: 3, signal: null, stderrTail: "bad\n", stdoutTail: "out\n" });
    expect(await run({ command: "exit 7", allowNonZeroExit: true })).toMatchObject({ exitCode: 7, signal: null });
  });

  it("reports a command killed by a signal", async () => {
    const error = await failure({ command: "kill -9 $$" });
    expect(error.message).toBe("remote command was killed by SIGKILL");
    expect(error.details).toMatchObject({ exitCode: null, signal: "SIGKILL" });
  });

  it("truncates output beyond maxOutputBytes", async () => {
    const result = await run({ command: "head -c 5000 /dev/zero | tr '\\0' a", maxOutputBytes: 1000 });
    expect(result.stdout).toBe("a".repeat(1000));
    expect(result.truncated).toBe(true);
  });
});

describe("ssh_executor stopping", () => {
  const sleeper = "sleep 30 & wait";

  it("times out: signals the remote command, which dies, and fails with TIMEOUT", async () => {
    const started = performance.now();
    const error = await failure({ command: `echo started; ${sleeper}`, timeoutMs: 500 });
    expect(error.code).toBe("TIMEOUT");
    expect(error.details).toMatchObject({ timeoutMs: 500, stdoutTail: "started\n" });
    expect(performance.now() - started).toBeLessThan(3000);
    const exec = execs.at(-1)!;
    expect(exec.signals).toEqual(["TERM"]);
    await expect.poll(() => isAlive(exec.child.pid!)).toBe(false);
  });

  it("aborts with the signal's reason and kills the remote command", async () => {
    const controller = new AbortController();
    const reason = new ApflowError("CANCELLED", "task cancelled");
    const before = execs.length;
    const ctx = fakeContext({ signal: controller.signal });
    const pending = caught(() => ssh.execute({ ...login(), command: sleeper }, ctx));
    await expect.poll(() => execs.length).toBe(before + 1);
    const exec = execs.at(-1)!;
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(exec.signals).toEqual(["TERM"]);
    await expect.poll(() => isAlive(exec.child.pid!)).toBe(false);
    expect(ctx.logs.some((line) => line.message === "stopping remote command")).toBe(true);
  });

  it("closes the channel after the grace period when the server ignores signals", async () => {
    honourSignals = false;
    try {
      const started = performance.now();
      const error = await failure({ command: sleeper, timeoutMs: 300 });
      expect(error.code).toBe("TIMEOUT");
      expect(performance.now() - started).toBeLessThan(3000);
      const exec = execs.at(-1)!;
      await expect.poll(() => exec.signals).toEqual(["TERM", "KILL"]);
      await expect.poll(() => exec.channelClosed).toBe(true);
      process.kill(-exec.child.pid!, "SIGKILL"); // the test server's own child, which it left running
    } finally {
      honourSignals = true;
    }
  });
});

describe("ssh_executor authentication and host keys", () => {
  it("fails on a wrong password without showing it", async () => {
    const ctx = fakeContext();
    const error = await failure({ password: "wrong-password-123", command: "true" }, ssh, ctx);
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe(
      `SSH authentication failed for ${USER}@127.0.0.1:${port}: the server accepted none of the given credentials`,
    );
    const shown = JSON.stringify({ message: error.message, details: error.details, logs: ctx.logs });
    expect(shown).not.toContain("wrong-password-123");
  });

  it("fails on a key the server does not know", async () => {
    const error = await failure({ password: null, privateKey: strangerKey.private, command: "true" });
    expect(error.message).toContain("SSH authentication failed");
  });

  it("rejects a wrong passphrase or a non-key as input problems, without running anything", async () => {
    const before = execs.length;
    const wrong = await failure({ privateKey: encryptedUserKey.private, passphrase: "nope", command: "true" });
    expect(wrong.code).toBe("VALIDATION_ERROR");
    expect(wrong.problems).toEqual([expect.objectContaining({ path: "inputs.passphrase" })]);
    const missing = await failure({ privateKey: encryptedUserKey.private, command: "true" });
    expect(missing.problems[0]!.message).toBe("is required: privateKey is encrypted");
    const garbage = await failure({ privateKey: "not a key", command: "true" });
    expect(garbage.problems).toEqual([expect.objectContaining({ path: "inputs.privateKey" })]);
    expect(JSON.stringify(wrong.details)).not.toContain("nope");
    expect(execs.length).toBe(before);
  });

  it("refuses a host key that does not match the pinned fingerprint", async () => {
    const before = execs.length;
    const error = await failure({ hostKeyFingerprint: fingerprintOf(otherHostKey.public), command: "true" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain(`its host key ${FINGERPRINT} does not match hostKeyFingerprint`);
    expect(error.details).toMatchObject({ fingerprint: FINGERPRINT });
    expect(execs.length).toBe(before);
  });

  it("accepts the fingerprint with or without the SHA256: prefix and padding", async () => {
    const bare = `${FINGERPRINT.slice("SHA256:".length)}=`;
    expect((await run({ hostKeyFingerprint: bare, command: "echo ok" })).stdout).toBe("ok\n");
  });

  it("fails closed without a fingerprint, saying how to pin it", async () => {
    const before = execs.length;
    const error = await failure({ hostKeyFingerprint: null, command: "true" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain(`its host key ${FINGERPRINT} is not pinned`);
    expect(error.message).toContain(`hostKeyFingerprint: "${FINGERPRINT}"`);
    expect(error.message).toContain("APFLOW_SSH_ALLOW_UNKNOWN_HOST_KEYS=1");
    expect(execs.length).toBe(before);
  });

  it("accepts an unpinned host key when the node allows it, logging its fingerprint", async () => {
    const trusting = createSshExecutor({ allowPrivateHosts: true, allowUnknownHostKeys: true });
    const ctx = fakeContext();
    const result = await run({ hostKeyFingerprint: null, command: "echo trusted" }, trusting, ctx);
    expect(result.stdout).toBe("trusted\n");
    expect(ctx.logs).toContainEqual(
      expect.objectContaining({ level: "warn", fields: expect.objectContaining({ fingerprint: FINGERPRINT }) }),
    );
    // A given fingerprint is still enforced.
    const error = await failure({ hostKeyFingerprint: fingerprintOf(otherHostKey.public), command: "true" }, trusting);
    expect(error.message).toContain("does not match");
  });

  it("never logs credentials or the command", async () => {
    const ctx = fakeContext();
    await run({ command: "echo secret-arg-42", privateKey: userKey.private }, ssh, ctx);
    const logged = JSON.stringify(ctx.logs);
    for (const secret of [PASSWORD, "secret-arg-42", userKey.private.slice(40, 80)])
      expect(logged).not.toContain(secret);
  });
});

describe("ssh_executor guard and inputs", () => {
  const guarded = createSshExecutor();

  it.each([["127.0.0.1"], ["localhost"], ["::1"], ["[::1]"]])("refuses %s without connecting", async (host) => {
    const connections: number[] = [];
    const onConnection = () => connections.push(1);
    server.on("connection", onConnection);
    try {
      const error = await failure({ host, command: "true" }, guarded);
      expect(error.code).toBe("EXECUTOR_FORBIDDEN");
      expect(error.message).toContain("ssh_executor refused");
      expect(error.message).toContain("APFLOW_SSH_ALLOW_PRIVATE_HOSTS=1");
      expect(connections).toEqual([]);
    } finally {
      server.off("connection", onConnection);
    }
  });

  it("lets allowedHosts through, connecting to the checked address", async () => {
    const exempt = createSshExecutor({
      allowedHosts: ["build.example.test"],
      resolve: async () => [{ address: "127.0.0.1", family: 4 }],
    });
    expect((await run({ host: "build.example.test", command: "echo pinned" }, exempt)).stdout).toBe("pinned\n");
  });

  it("times out connecting to a server that never answers", async () => {
    const silent = (await import("node:net")).createServer(() => {});
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    try {
      const error = await failure({
        port: (silent.address() as AddressInfo).port,
        connectTimeoutMs: 300,
        command: "true",
      });
      expect(error.code).toBe("TIMEOUT");
    } finally {
      silent.close();
    }
  });

  it("lists every invalid input at once", async () => {
    const error = await failure({
      host: "user@host",
      port: 70000,
      password: null,
      hostKeyFingerprint: "MD5:aa:bb",
      command: "",
      env: { A: 1 },
    });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.command",
      "inputs.env",
      "inputs.host",
      "inputs.hostKeyFingerprint",
      "inputs.password",
      "inputs.port",
    ]);
  });

  it("has a strict input schema", () => {
    expect(ssh.id).toBe("ssh_executor");
    expect(ssh.inputSchema).toMatchObject({
      type: "object",
      required: ["host", "username", "command"],
      additionalProperties: false,
    });
  });
});
