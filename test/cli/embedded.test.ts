/**
 * The CLI on the embedded database (no server): it opens the data directory itself,
 * runs trees in its own process, and reads and changes tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskView, TreeEvent } from "../../src/cli/gateway/gateway.js";
import { cli, REPORT_TREE, startCli, tempDir, writeTaskFile } from "./support.js";

let dir: { dir: string; remove(): Promise<void> };
const run = (args: string[], env: Record<string, string> = {}) => cli(args, { cwd: dir.dir, env });
const json = <T>(text: string) => JSON.parse(text) as T;

beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

// Every command is a real process that opens the database: seconds each on a busy machine.
const SLOW = { timeout: 180_000 };

describe("apflow run on the embedded database", SLOW, () => {
  it("runs a JSON task file, shows the tree and exits 0", async () => {
    const file = await writeTaskFile(dir.dir, "report.json", REPORT_TREE);
    const { code, stdout, stderr } = await run(["run", file]);
    expect({ code, stderr }).toMatchObject({ code: 0, stderr: expect.stringContaining("Running tree") });
    // Not a terminal: one line per event, then the final tree.
    expect(stdout).toMatch(/\d\d:\d\d:\d\d {2}started +cpu/);
    expect(stdout).toMatch(/completed +report/);
    expect(stdout).toContain("✓ report  aggregate_results_executor  completed\n├─ ✓ cpu");
    expect(stdout).toContain("└─ ✓ memory  system_info_executor  completed");
    expect(stdout).toMatch(/✓ 3 tasks completed in/);
    expect(stdout).not.toContain("\u001b["); // no colours when stdout is not a terminal
  });

  it("runs a YAML file with --json: one document on stdout, nothing else", async () => {
    const file = await writeTaskFile(
      dir.dir,
      "report.yaml",
      [
        "tasks:",
        "  - name: report",
        "    executor: aggregate_results_executor",
        "    dependencies: [cpu]",
        "  - name: cpu",
        "    executor: system_info_executor",
        "    parentId: report",
        "    inputs: { resource: cpu }",
      ].join("\n"),
    );
    const { code, stdout } = await run(["run", file, "--json"]);
    expect(code).toBe(0);
    const { root, tasks } = json<{ root: TaskView; tasks: TaskView[] }>(stdout);
    expect(root).toMatchObject({ name: "report", status: "completed", parentId: null });
    expect(tasks.map((t) => [t.name, t.status])).toEqual([
      ["report", "completed"],
      ["cpu", "completed"],
    ]);
    expect(Object.values(root.result as object)[0]).toMatchObject({ cpu: { count: expect.any(Number) } });
  });

  it("accepts the Python apflow's task files (snake_case, schemas.method, record fields)", async () => {
    const file = await writeTaskFile(dir.dir, "python.json", [
      {
        id: "py-root",
        parent_id: null,
        user_id: "user-123",
        name: "system resources",
        status: "pending",
        priority: 1,
        inputs: {},
        schemas: { method: "aggregate_results_executor" },
        params: null,
        result: null,
        error: null,
        dependencies: [{ id: "py-cpu", required: true }],
        progress: 0.0,
        created_at: "2025-01-15T10:30:00Z",
        max_attempts: 2,
      },
      {
        id: "py-cpu",
        parent_id: "py-root",
        name: "cpu",
        schemas: { method: "system_info_executor", input_schema: { type: "object" } },
        inputs: { resource: "cpu" },
      },
    ]);
    const { code, stdout } = await run(["run", file, "--json"]);
    expect(code).toBe(0);
    const { root, tasks } = json<{ root: TaskView; tasks: TaskView[] }>(stdout);
    expect(root).toMatchObject({ id: "py-root", status: "completed", priority: 1, maxAttempts: 2 });
    expect(tasks[1]).toMatchObject({ id: "py-cpu", parentId: "py-root", executor: "system_info_executor" });
  });

  it("exits 1 when a task fails, naming the task that failed and why", async () => {
    const file = await writeTaskFile(dir.dir, "failing.json", [
      { name: "all", executor: "aggregate_results_executor", dependencies: ["fetch"] },
      // A private address: the URL guard refuses it (APFLOW_REST_ALLOW_PRIVATE_URLS is off).
      { name: "fetch", executor: "rest_executor", parentId: "all", inputs: { url: "http://127.0.0.1:9/status" } },
    ]);
    const { code, stdout } = await run(["run", file]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ fetch {2}rest_executor {2}failed: /);
    expect(stdout).toMatch(/✗ all {2}aggregate_results_executor {2}failed/);
    expect(stdout).toContain("✗ 2 failed, 0 completed (of 2 tasks)");
    expect(stdout).toMatch(/fetch failed \[[A-Z_]+\]: .+/);
  });

  it("exits 2 on an invalid task file, listing every problem with its path; nothing is created", async () => {
    const file = await writeTaskFile(
      dir.dir,
      "invalid.yaml",
      [
        "- name: a",
        "  executor: system_info_executor",
        "  colour: red",
        "- name: b",
        "  executor: system_info_executor",
        "  parentId: nowhere",
        "  dependencies: [a, a]",
      ].join("\n"),
    );
    const before = json<{ total: number }>((await run(["tasks", "list", "--json"])).stdout).total;
    const { code, stderr } = await run(["run", file]);
    expect(code).toBe(2);
    expect(stderr).toContain("has 4 problems; nothing was created");
    expect(stderr).toContain("tasks[0].colour: unknown field");
    expect(stderr).toContain('tasks[1].parentId: "nowhere" is neither the id nor the name');
    expect(stderr).toContain('tasks[1].dependencies[1]: depends on "a" more than once');
    expect(stderr).toContain("a tree has exactly one root");

    const unknownExecutor = await writeTaskFile(dir.dir, "executor.json", [
      { name: "a", executor: "no_such_executor" },
      { name: "b", executor: "system_info_executor", parentId: "a", inputs: { resource: 12 } },
    ]);
    const server = await run(["run", unknownExecutor, "--json"]);
    expect(server).toMatchObject({ code: 2, stdout: "" });
    const { error } = json<{ error: { code: string; problems: { path: string }[] } }>(server.stderr);
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(["tasks[0].executor", "tasks[1].inputs.resource"]),
    );
    expect(json<{ total: number }>((await run(["tasks", "list", "--json"])).stdout).total).toBe(before);
  });
});

describe("apflow tasks on the embedded database", SLOW, () => {
  let rootId: string;

  beforeAll(async () => {
    const file = await writeTaskFile(dir.dir, "tasks.json", REPORT_TREE);
    const { stdout } = await run(["run", file, "--json"]);
    rootId = json<{ root: TaskView }>(stdout).root.id;
  });

  it("lists tasks with filters and paging, as a table or JSON", async () => {
    const table = await run(["tasks", "list", "--tree", rootId]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID +NAME +STATUS +PROGRESS +EXECUTOR +CREATED +TREE$/);
    expect(table.stdout).toMatch(new RegExp(`${rootId} +report +completed +100% +aggregate_results_executor`));
    expect(table.stderr).toContain("3 of 3 tasks");

    const first = json<{ tasks: TaskView[]; total: number; next: string }>(
      (await run(["tasks", "list", "--tree", rootId, "--limit", "2", "--json"])).stdout,
    );
    expect(first.tasks).toHaveLength(2);
    expect(first.total).toBe(3);
    const second = json<{ tasks: TaskView[]; next: string | null }>(
      (await run(["tasks", "list", "--tree", rootId, "--limit", "2", "--after", first.next, "--json"])).stdout,
    );
    expect(second.next).toBeNull();
    expect(new Set([...first.tasks, ...second.tasks].map((t) => t.name))).toEqual(new Set(["report", "cpu", "memory"]));

    const roots = json<{ tasks: TaskView[] }>(
      (
        await run([
          "tasks",
          "list",
          "--root-only",
          "--status",
          "completed",
          "--executor",
          "aggregate_results_executor",
          "--json",
        ])
      ).stdout,
    );
    expect(roots.tasks.length).toBeGreaterThan(0);
    expect(roots.tasks.every((t) => t.parentId === null && t.status === "completed")).toBe(true);
  });

  it("shows one task with every field, and a tree", async () => {
    const human = await run(["tasks", "get", rootId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^id +\S+/m);
    expect(human.stdout).toMatch(/^status +completed$/m);
    expect(human.stdout).toMatch(/^result\n {2}\{/m);

    const task = json<TaskView>((await run(["tasks", "get", rootId, "--json"])).stdout);
    expect(task).toMatchObject({ id: rootId, name: "report", status: "completed", progress: 1, parentId: null });
    expect(task.dependencies).toHaveLength(2);

    const tree = await run(["tasks", "tree", rootId]);
    expect(tree.stdout).toBe(
      [
        "✓ report  aggregate_results_executor  completed",
        "├─ ✓ cpu  system_info_executor  completed",
        "└─ ✓ memory  system_info_executor  completed",
        "",
      ].join("\n"),
    );
    const nested = json<TaskView & { children: TaskView[] }>((await run(["tasks", "tree", rootId, "--json"])).stdout);
    expect(nested.children.map((c) => c.name)).toEqual(["cpu", "memory"]);

    const missing = await run(["tasks", "get", "no-such-task"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('task "no-such-task" not found');
  });

  it("copies a tree, cancels and deletes pending ones, and refuses to delete one that ran", async () => {
    const copy = await run(["tasks", "copy", rootId, "--json"]);
    expect(copy.code).toBe(0);
    const copied = json<TaskView>(copy.stdout);
    const copyId = copied.id;
    expect(copied).toMatchObject({ name: "report", status: "pending", treeId: copyId });
    expect(copyId).not.toBe(rootId);

    const cancelled = json<TaskView>(
      (await run(["tasks", "cancel", copyId, "--reason", "not needed", "--json"])).stdout,
    );
    expect(cancelled).toMatchObject({ id: copyId, status: "cancelled", error: "not needed" });

    const file = await writeTaskFile(dir.dir, "queued.json", REPORT_TREE);
    const queued = await run(["run", file, "--no-wait"]);
    expect(queued.code).toBe(0);
    const queuedId = queued.stdout.trim();
    expect(queued.stderr).toContain(`apflow tasks watch ${queuedId}`);
    const deleted = await run(["tasks", "delete", queuedId]);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted ${queuedId} and its descendants.\n` });
    expect((await run(["tasks", "get", queuedId])).code).toBe(3);

    const refused = await run(["tasks", "delete", rootId]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^error: .+/);
  });

  it("watches a queued tree to its end (running it here), as JSON lines", async () => {
    const file = await writeTaskFile(dir.dir, "watched.json", REPORT_TREE);
    const id = (await run(["run", file, "--no-wait"])).stdout.trim();
    const { code, stdout } = await run(["tasks", "watch", id, "--json"]);
    expect(code).toBe(0);
    const events = stdout
      .trim()
      .split("\n")
      .map((line) => json<TreeEvent>(line));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "completed")).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ taskId: id, type: "completed", id: `${id}:${events.length}` });
  });

  it("lists the executors, with the reason an unavailable one is off", async () => {
    const executors = json<{ id: string; available: boolean; unavailableReason: string | null }[]>(
      (await run(["executors", "list", "--json"])).stdout,
    );
    expect(executors.find((e) => e.id === "system_info_executor")).toMatchObject({ available: true });
    expect(executors.find((e) => e.id === "command_executor")).toMatchObject({
      available: false,
      unavailableReason: expect.stringContaining("APFLOW_STDIO_ALLOW_COMMAND=1"),
    });
    const table = await run(["executors", "list"]);
    expect(table.stdout).toMatch(/command_executor +no +command_executor is off: set APFLOW_STDIO_ALLOW_COMMAND=1/);
  });

  it("cancels a tree that outlives --timeout and exits 1", async () => {
    const file = await writeTaskFile(dir.dir, "late.json", [
      { name: "late", executor: "command_executor", inputs: { command: "sleep", args: ["60"] } },
    ]);
    const { code, stdout, stderr } = await run(["run", file, "--timeout", "1"], { APFLOW_STDIO_ALLOW_COMMAND: "1" });
    expect(code).toBe(1);
    expect(stderr).toContain("The tree did not finish within 1.0 s; cancelling it...");
    expect(stdout).toContain("⊘ late  command_executor  cancelled: timed out after 1.0 s (apflow run --timeout)");
  });

  it("cancels the tree on Ctrl-C and exits 130", async () => {
    const file = await writeTaskFile(dir.dir, "slow.json", [
      { name: "slow", executor: "command_executor", inputs: { command: "sleep", args: ["60"] } },
    ]);
    const env = { APFLOW_STDIO_ALLOW_COMMAND: "1" };
    const running = startCli(["run", file], { cwd: dir.dir, env });
    const id = (await running.output(/Running tree (\S+)/)).split(" ")[2]!;
    await running.output(/started +slow/);
    running.child.kill("SIGINT");
    const { code, stderr, stdout } = await running.result;
    expect(code).toBe(130);
    expect(stderr).toContain(`Cancelling the tree ${id}`);
    expect(stdout).toMatch(/cancelled +slow/);
    expect(json<TaskView>((await run(["tasks", "get", id, "--json"], env)).stdout)).toMatchObject({
      status: "cancelled",
      error: "interrupted with Ctrl-C in the apflow CLI",
    });
  });
});
