/** The CLI's human output, in process: tables, trees, colours and the live view on a terminal. */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TaskView, TreeEvent } from "../../src/cli/gateway/gateway.js";
import { LiveTree } from "../../src/cli/output/live-tree.js";
import { Output } from "../../src/cli/output/output.js";
import { createStyle } from "../../src/cli/output/style.js";
import { renderTable } from "../../src/cli/output/table.js";
import { renderTree } from "../../src/cli/output/tree-view.js";

/** A stream that records what is written, optionally posing as a colour terminal of `columns` x `rows`. */
function stream(tty?: { columns: number; rows: number }): Writable & { text: string } {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      sink.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  sink.text = "";
  if (tty) Object.assign(sink, { isTTY: true, ...tty, hasColors: () => true });
  return sink;
}

function task(fields: Partial<TaskView> & Pick<TaskView, "id" | "name">): TaskView {
  return {
    treeId: "root",
    parentId: fields.id === "root" ? null : "root",
    executor: "system_info_executor",
    status: "pending",
    progress: 0,
    priority: 2,
    inputs: {},
    params: {},
    result: null,
    error: null,
    errorCode: null,
    attempt: 0,
    maxAttempts: 1,
    timeoutMs: null,
    idempotencyKey: null,
    dependencies: [],
    createdAt: "2026-11-24T10:00:00.000Z",
    startedAt: null,
    completedAt: null,
    updatedAt: "2026-11-24T10:00:00.000Z",
    schedule: null,
    ...fields,
  };
}

const plain = createStyle(false);
/** Cursor to the start of the line three lines up, then clear to the end of the screen. */
const UP_3 = "\u001b[3F\u001b[J";

afterEach(() => {
  vi.useRealTimers();
});

describe("tables", () => {
  const columns = [
    { header: "ID", value: (row: string[]) => row[0]! },
    { header: "DESCRIPTION", value: (row: string[]) => row[1]!, shrink: true },
    { header: "N", value: (row: string[]) => row[2]!, align: "right" as const },
  ];
  const rows = [
    ["a", "short", "1"],
    ["bb", "a description far too long for a narrow terminal", "22"],
  ];

  it("aligns columns, right-aligning numbers, and never cuts piped output", () => {
    expect(renderTable(columns, rows, plain)).toEqual([
      "ID  DESCRIPTION                                        N",
      "a   short                                              1",
      "bb  a description far too long for a narrow terminal  22",
    ]);
  });

  it("cuts the shrinkable column with an ellipsis to fit a terminal's width", () => {
    const lines = renderTable(columns, rows, plain, 30);
    expect(lines).toEqual([
      "ID  DESCRIPTION              N",
      "a   short                    1",
      "bb  a description far too…  22",
    ]);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(30);
  });
});

describe("trees", () => {
  const tasks = [
    task({
      id: "root",
      name: "report",
      executor: "aggregate_results_executor",
      status: "failed",
      error: "dependency failed",
    }),
    task({ id: "a", name: "cpu", status: "completed", progress: 1 }),
    task({ id: "b", name: "memory", status: "in_progress", progress: 0.4, attempt: 2, maxAttempts: 3 }),
    task({ id: "c", name: "disk", parentId: "b", status: "cancelled" }),
  ];

  it("draws the tree with status symbols, progress bars and errors", () => {
    expect(renderTree(tasks, "root", plain)).toEqual([
      "✗ report  aggregate_results_executor  failed: dependency failed",
      "├─ ✓ cpu  system_info_executor  completed",
      "└─ ◐ memory  system_info_executor  [████░░░░░░]  40% (attempt 2/3)",
      "   └─ ⊘ disk  system_info_executor  cancelled",
    ]);
  });

  it("colours the statuses only when asked to, and cuts lines to the width", () => {
    const [root] = renderTree(tasks, "root", createStyle(true), 20);
    expect(root).toBe("\u001b[31m✗ \u001b[39m\u001b[1mreport\u001b[22m\u001b[2m  aggregate…\u001b[22m");
  });
});

describe("output streams", () => {
  it("uses colours on a colour terminal only, and never with --no-color or --json", () => {
    const tty = { columns: 80, rows: 24 };
    expect(new Output({ json: false, noColor: false, stdout: stream(tty), stderr: stream() }).style.enabled).toBe(true);
    expect(new Output({ json: false, noColor: true, stdout: stream(tty), stderr: stream() }).style.enabled).toBe(false);
    expect(new Output({ json: true, noColor: false, stdout: stream(tty), stderr: stream() }).style.enabled).toBe(false);
    expect(new Output({ json: false, noColor: false, stdout: stream(), stderr: stream() }).style.enabled).toBe(false);
  });

  it("keeps stdout for the JSON document and sends notes to stderr only for people", () => {
    const stdout = stream();
    const stderr = stream();
    const out = new Output({ json: true, noColor: false, stdout, stderr });
    out.note("Running tree x");
    out.printJson({ ok: true });
    out.error("warning: y");
    expect(stdout.text).toBe('{\n  "ok": true\n}\n');
    expect(stderr.text).toBe("warning: y\n");
  });
});

describe("the live view on a terminal", () => {
  it("redraws the tree in place, at most every 100 ms, with a summary line", () => {
    vi.useFakeTimers();
    const stdout = stream({ columns: 100, rows: 30 });
    const out = new Output({ json: false, noColor: true, stdout, stderr: stream() });
    const tasks = [task({ id: "root", name: "report" }), task({ id: "a", name: "cpu" })];
    const view = new LiveTree(out, "root", tasks, "redraw");
    expect(stdout.text).toMatch(/^0\/2 finished {2}\[░{20}\] {3}0% {2}0 running {2}\d+ ms\n○ report .*\n└─ ○ cpu /);

    const event = (fields: Partial<TreeEvent>): TreeEvent => ({
      id: "root:1",
      seq: 1,
      taskId: "a",
      type: "started",
      status: "in_progress",
      progress: 0,
      attempt: 1,
      message: null,
      at: "2026-11-24T10:00:01.000Z",
      ...fields,
    });
    stdout.text = "";
    view.apply(event({}));
    view.apply(event({ seq: 2, type: "progress", progress: 0.5 }));
    expect(stdout.text).toBe(""); // batched until the next redraw
    vi.advanceTimersByTime(100);
    // Up three lines (summary and two tasks), clear, draw again.
    expect(stdout.text.startsWith(`${UP_3}0/2 finished `)).toBe(true);
    expect(stdout.text).toContain("1 running");
    expect(stdout.text).toContain("└─ ◐ cpu  system_info_executor  [█████░░░░░]  50%");

    stdout.text = "";
    view.finish([
      task({ id: "root", name: "report", status: "completed" }),
      task({ id: "a", name: "cpu", status: "completed" }),
    ]);
    expect(stdout.text.startsWith(`${UP_3}2/2 finished  [${"█".repeat(20)}] 100%`)).toBe(true);
    view.stop();
  });
});
