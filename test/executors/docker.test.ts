import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ApflowError } from "../../src/core/errors.js";
import type { JsonObject } from "../../src/core/types.js";
import { createDockerExecutor, type DockerResult } from "../../src/executors/docker.js";
import { pullQuery, StreamDemuxer } from "../../src/executors/docker-api.js";
import { caught, caughtApflowError, fakeContext } from "./context.js";
import { type FakeEngine, startFakeEngine } from "./peers/docker-engine.js";

let engine: FakeEngine;
let dir: string;

beforeAll(async () => {
  engine = await startFakeEngine();
  dir = await mkdtemp(path.join(tmpdir(), "apflow-docker-mounts-"));
});
afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  engine.calls.length = 0;
  for (const container of engine.containers.values()) clearTimeout(container.timer);
  engine.containers.clear();
});

const docker = () => createDockerExecutor({ socketPath: engine.socketPath, allowedMountPaths: [dir] });

async function run(inputs: JsonObject, executor = docker(), ctx = fakeContext()): Promise<DockerResult> {
  return (await executor.execute(inputs, ctx)) as DockerResult;
}

async function failure(inputs: JsonObject, executor = docker(), ctx = fakeContext()): Promise<ApflowError> {
  return caughtApflowError(() => executor.execute(inputs, ctx));
}

const callsTo = (method: string, suffix: string) =>
  engine.calls.filter((c) => c.method === method && c.path.endsWith(suffix));

describe("docker_executor runs a container", () => {
  it("creates, starts, waits, reads the logs and removes, sending exactly the configuration asked for", async () => {
    const data = path.join(dir, "data");
    await mkdir(data, { recursive: true });
    const result = await run(
      {
        image: "alpine:3.20",
        command: "echo",
        args: ["hello", "world"],
        env: { GREETING: "hi", EMPTY: "" },
        volumes: [`${data}:/data:ro`, { source: "cache-vol", target: "/cache" }],
        workingDir: "/work",
        user: "1000:1000",
        cpus: 1.5,
        memoryBytes: 256 * 1024 * 1024,
      },
      docker(),
      fakeContext({ task: { id: "task-42", treeId: "tree-7" } }),
    );
    expect(result).toMatchObject({ exitCode: 0, stdout: "hello world\n", stderr: "", truncated: false });
    expect(result.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(engine.sequence()).toEqual([
      "GET /version",
      "POST /containers/create",
      "POST /containers/{id}/start",
      "POST /containers/{id}/wait",
      "GET /containers/{id}/logs",
      "DELETE /containers/{id}",
    ]);
    // Negotiated: every call after /version uses the engine's API version.
    expect(engine.calls.slice(1).every((c) => c.version === "1.45")).toBe(true);
    const create = callsTo("POST", "/containers/create")[0]!;
    expect(create.query.name).toMatch(/^apflow-task-42-[0-9a-f]{8}$/);
    expect(create.body).toEqual({
      Image: "alpine:3.20",
      Cmd: ["echo", "hello", "world"],
      Env: ["GREETING=hi", "EMPTY="],
      WorkingDir: "/work",
      User: "1000:1000",
      Labels: { "apflow.task-id": "task-42", "apflow.tree-id": "tree-7" },
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      HostConfig: {
        Binds: [`${data}:/data:ro`, "cache-vol:/cache:rw"],
        NanoCpus: 1_500_000_000,
        Memory: 268_435_456,
        AutoRemove: false,
      },
    });
    expect(callsTo("POST", "/wait")[0]!.query).toEqual({ condition: "not-running" });
    expect(callsTo("GET", "/logs")[0]!.query).toEqual({ stdout: "1", stderr: "1", follow: "0" });
    expect(callsTo("DELETE", "")[0]!.query).toEqual({ force: "true", v: "true" });
    expect(engine.containers.size).toBe(0);
  });

  it("uses the image's own command when none is given, and an argv array as given", async () => {
    expect((await run({ image: "alpine:3.20" })).stdout).toBe("hello from alpine:3.20\n");
    expect(callsTo("POST", "/containers/create")[0]!.body).not.toHaveProperty("Cmd");
    expect((await run({ image: "alpine:3.20", command: ["echo", "a b"], entrypoint: "/bin/x" })).stdout).toBe("a b\n");
    expect(callsTo("POST", "/containers/create")[1]!.body).toMatchObject({
      Cmd: ["echo", "a b"],
      Entrypoint: ["/bin/x"],
    });
  });

  it("separates stdout and stderr from the multiplexed stream, headers cut across writes", async () => {
    const result = await run({ image: "alpine:3.20", command: "mixed" });
    expect(result.stdout).toBe("line 1\nline 2\n");
    expect(result.stderr).toBe("warning 1\nwarning 2\n");
  });

  it("keeps maxOutputBytes of each stream and marks the result truncated", async () => {
    const result = await run({ image: "alpine:3.20", command: "big", args: ["200000"], maxOutputBytes: 1500 });
    expect(result.stdout.length).toBe(1500);
    expect(result.truncated).toBe(true);
    const whole = await run({ image: "alpine:3.20", command: "big", args: ["200000"] });
    expect(whole.stdout.length).toBe(200_000);
  });

  it("applies the node's network mode", async () => {
    await run({ image: "alpine:3.20" }, createDockerExecutor({ socketPath: engine.socketPath, networkMode: "none" }));
    expect(callsTo("POST", "/containers/create")[0]!.body).toMatchObject({ HostConfig: { NetworkMode: "none" } });
  });
});

describe("docker_executor exit codes", () => {
  it("fails on a non-zero exit with the stderr tail, and still removes the container", async () => {
    const error = await failure({ image: "alpine:3.20", command: "fail", args: ["3", "disk full"] });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toBe("container of alpine:3.20 exited with code 3: disk full");
    expect(error.details).toMatchObject({ exitCode: 3, oomKilled: false, stderrTail: "disk full\n" });
    expect(error.details?.stdoutTail).toBe("working\n");
    expect(callsTo("DELETE", "").length).toBe(1);
    expect(engine.containers.size).toBe(0);
  });

  it("returns the result when allowNonZeroExit is set", async () => {
    const result = await run({ image: "alpine:3.20", command: "fail", args: ["2", "nope"], allowNonZeroExit: true });
    expect(result).toMatchObject({ exitCode: 2, stderr: "nope\n" });
  });

  it("says when the container was killed for its memory limit", async () => {
    const error = await failure({ image: "alpine:3.20", command: "oom", memoryBytes: 8 * 1024 * 1024 });
    expect(error.message).toContain("exited with code 137 (killed for going over its memory limit of 8388608 bytes)");
    expect(error.details?.oomKilled).toBe(true);
  });

  it("keeps the container when autoRemove is false", async () => {
    const result = await run({ image: "alpine:3.20", command: "echo", args: ["kept"], autoRemove: false });
    expect(callsTo("DELETE", "")).toEqual([]);
    expect(engine.containers.get(result.containerId)?.state).toBe("exited");
  });
});

describe("docker_executor images", () => {
  it("pulls a missing image (with its tag) and creates the container again", async () => {
    engine.images.delete("busybox:latest");
    const result = await run({ image: "busybox", command: "echo", args: ["pulled"] });
    expect(result.stdout).toBe("pulled\n");
    expect(engine.sequence().slice(0, 4)).toEqual([
      "GET /version",
      "POST /containers/create",
      "POST /images/create",
      "POST /containers/create",
    ]);
    expect(callsTo("POST", "/images/create")[0]!.query).toEqual({ fromImage: "busybox", tag: "latest" });
  });

  it("pulls first with pull: always, and never pulls with pull: never", async () => {
    await run({ image: "alpine:3.20", pull: "always" });
    expect(engine.sequence().slice(0, 3)).toEqual(["GET /version", "POST /images/create", "POST /containers/create"]);
    engine.calls.length = 0;
    engine.images.delete("busybox:latest");
    const error = await failure({ image: "busybox", pull: "never" });
    expect(error.message).toBe('image busybox is not on the Docker engine and pull is "never"');
    expect(callsTo("POST", "/images/create")).toEqual([]);
  });

  it("fails when the image cannot be pulled, with the registry's reason", async () => {
    const error = await failure({ image: "nosuch/image:1" });
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain("could not pull image nosuch/image:1: pull access denied for nosuch/image");
    expect(error.details?.status).toBe(404);
    expect(callsTo("POST", "/containers/create").length).toBe(1);
  });

  it("fails on an error reported inside the pull's progress stream", async () => {
    const error = await failure({ image: "broken:1" });
    expect(error.message).toBe("could not pull image broken:1: unexpected EOF");
  });
});

describe("docker_executor cancellation and timeouts", () => {
  it("kills and removes the container when the task is cancelled", async () => {
    const controller = new AbortController();
    const reason = new ApflowError("CANCELLED", "cancelled by test");
    const pending = run(
      { image: "alpine:3.20", command: "sleep", args: ["60000"], autoRemove: false },
      docker(),
      fakeContext({ signal: controller.signal }),
    );
    await expect.poll(() => callsTo("POST", "/wait").length).toBe(1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const tail = engine.sequence().slice(-2);
    expect(tail).toEqual(["POST /containers/{id}/kill", "DELETE /containers/{id}"]);
    expect(callsTo("POST", "/kill")[0]!.query).toEqual({ signal: "SIGKILL" });
    expect(engine.containers.size).toBe(0);
  });

  it("removes the container by name when cancelled before the engine answered the create call", async () => {
    const controller = new AbortController();
    const reason = new Error("cancelled");
    const pending = run(
      { image: "alpine:3.20", env: { FAKE_SLOW_CREATE: "1" } },
      docker(),
      fakeContext({ signal: controller.signal }),
    );
    await expect.poll(() => engine.containers.size).toBe(1);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const name = callsTo("POST", "/containers/create")[0]!.query.name!;
    expect(engine.calls.at(-1)).toMatchObject({ method: "DELETE", path: `/containers/${name}` });
    expect(engine.containers.size).toBe(0);
  });

  it("fails with TIMEOUT, then kills and removes the container", async () => {
    const started = Date.now();
    const error = await failure({ image: "alpine:3.20", command: "sleep", args: ["60000"], timeoutMs: 200 });
    expect(error.code).toBe("TIMEOUT");
    expect(error.message).toBe("container of alpine:3.20 timed out after 200 ms and was removed");
    expect(error.details?.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(engine.sequence().slice(-2)).toEqual(["POST /containers/{id}/kill", "DELETE /containers/{id}"]);
    expect(engine.containers.size).toBe(0);
  });

  it("does not start when the signal is already aborted", async () => {
    const reason = new Error("shutdown");
    const error = await caught(() =>
      docker().execute({ image: "alpine:3.20" }, fakeContext({ signal: AbortSignal.abort(reason) })),
    );
    expect(error).toBe(reason);
    expect(engine.calls).toEqual([]);
  });
});

describe("docker_executor host mounts", () => {
  const refused = async (source: string, executor = docker()) => {
    const error = await failure({ image: "alpine:3.20", volumes: [`${source}:/mnt`] }, executor);
    expect(error.code).toBe("EXECUTOR_FORBIDDEN");
    expect(engine.calls).toEqual([]);
    return error;
  };

  it("refuses every host path by default, naming the settings", async () => {
    const error = await refused(dir, createDockerExecutor({ socketPath: engine.socketPath }));
    expect(error.message).toContain("it is not under an allowed mount path");
    expect(error.message).toContain("APFLOW_DOCKER_ALLOWED_MOUNT_PATHS");
    expect(error.message).toContain("APFLOW_DOCKER_ALLOW_HOST_MOUNTS=1");
  });

  it.each([
    ["/", "it contains /etc"],
    ["/etc", "not under an allowed mount path"],
    ["/var/run/docker.sock", "not under an allowed mount path"],
    ["/var", "it contains /var/run/docker.sock"],
    ["/proc/1", "not under an allowed mount path"],
    ["/home/someone", "not under an allowed mount path"],
  ])("refuses %s", async (source, reason) => {
    expect((await refused(source)).message).toContain(reason);
  });

  it("resolves .. before checking, and refuses a link that leads out of an allowed path", async () => {
    expect((await refused(`${dir}/../../etc`)).details?.source).toBe("/etc");
    const link = path.join(dir, "to-etc");
    await symlink("/etc", link);
    const error = await refused(link);
    expect(error.message).toContain(`${link} (a link to /etc)`);
  });

  it("needs an allow-list entry inside a sensitive path, and allowHostMounts for anything else", async () => {
    const inEtc = createDockerExecutor({ socketPath: engine.socketPath, allowedMountPaths: ["/etc/ssl"] });
    await run({ image: "alpine:3.20", volumes: ["/etc/ssl/certs:/certs:ro"] }, inEtc);
    engine.calls.length = 0;
    await refused("/etc", inEtc);
    const everything = createDockerExecutor({ socketPath: engine.socketPath, allowedMountPaths: ["/"] });
    expect((await refused("/etc/passwd", everything)).message).toContain("inside the sensitive path /etc");
    const all = createDockerExecutor({ socketPath: engine.socketPath, allowHostMounts: true });
    await run({ image: "alpine:3.20", volumes: ["/etc:/host-etc:ro"] }, all);
    expect(callsTo("POST", "/containers/create")[0]!.body).toMatchObject({
      HostConfig: { Binds: ["/etc:/host-etc:ro"] },
    });
  });
});

describe("docker_executor errors", () => {
  it("lists every invalid input at once", async () => {
    const error = await failure({
      command: "",
      env: { "A=B": "x" },
      volumes: ["relative/path:/x", "/a:b", "x"],
      cpus: 0,
      memoryBytes: 1024,
      pull: "sometimes",
      workingDir: "work",
    });
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path).sort()).toEqual([
      "inputs.command",
      "inputs.cpus",
      "inputs.env",
      "inputs.image",
      "inputs.memoryBytes",
      "inputs.pull",
      "inputs.volumes[0]",
      "inputs.volumes[1]",
      "inputs.volumes[2]",
      "inputs.workingDir",
    ]);
  });

  it("reports an unreachable engine with the socket and the error code", async () => {
    const missing = path.join(dir, "no-such.sock");
    const error = await failure({ image: "alpine:3.20" }, createDockerExecutor({ socketPath: missing }));
    expect(error.code).toBe("EXECUTOR_FAILED");
    expect(error.message).toContain(`Docker engine not reachable at unix://${missing}`);
    expect(error.message).toContain("APFLOW_DOCKER_HOST");
    expect(error.details?.code).toBe("ENOENT");
  });

  it("never repeats environment values in errors, even when the engine quotes them", async () => {
    const error = await failure({ image: "alpine:3.20", env: { API_TOKEN: "s3cr3t-value", FAKE_REJECT: "1" } });
    expect(error.message).toContain("Docker could not create the container (HTTP 400)");
    expect(error.message).toContain("API_TOKEN=[REDACTED]");
    expect(JSON.stringify(error.details)).not.toContain("s3cr3t-value");
    expect(error.message).not.toContain("s3cr3t-value");
  });

  it("speaks at most API 1.47 to a newer engine and refuses an engine older than 1.40", async () => {
    const newer = await startFakeEngine({ apiVersion: "1.51" });
    const older = await startFakeEngine({ apiVersion: "1.30" });
    try {
      await run({ image: "alpine:3.20" }, createDockerExecutor({ socketPath: newer.socketPath }));
      expect(newer.calls.slice(1).map((c) => c.version)).toEqual(Array(5).fill("1.47"));
      const error = await failure({ image: "alpine:3.20" }, createDockerExecutor({ socketPath: older.socketPath }));
      expect(error.message).toContain("(API 1.30) is too old: API 1.40 or later is needed");
      expect(older.calls.length).toBe(1);
    } finally {
      await Promise.all([newer.close(), older.close()]);
    }
  });
});

describe("docker-api helpers", () => {
  it("pulls one tag: latest when none is given, none for a digest", () => {
    expect(pullQuery("alpine")).toEqual({ fromImage: "alpine", tag: "latest" });
    expect(pullQuery("registry:5000/team/app")).toEqual({ fromImage: "registry:5000/team/app", tag: "latest" });
    expect(pullQuery("registry:5000/team/app:2")).toEqual({ fromImage: "registry:5000/team/app", tag: "2" });
    expect(pullQuery("app@sha256:abc")).toEqual({ fromImage: "app@sha256:abc" });
  });

  it("demultiplexes frames fed one byte at a time", () => {
    const frames: [number, string][] = [];
    const demuxer = new StreamDemuxer((stream, payload) => frames.push([stream, payload.toString()]));
    const frame = (stream: number, text: string) => {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    const all = Buffer.concat([frame(1, "out"), frame(2, "érr"), frame(1, "")]);
    for (const byte of all) demuxer.push(Buffer.from([byte]));
    demuxer.end();
    expect(frames).toEqual([
      [1, "out"],
      [2, "érr"],
      [1, ""],
    ]);
  });
});
