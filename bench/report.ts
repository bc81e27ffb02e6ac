/**
 * The benchmark's output: a plain-text table on stdout (progress goes to stderr)
 * and the same figures, every run included, as JSON in bench/results/.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Meters } from "./meters.js";
import type { Profile } from "./sql-profile.js";

export interface RunResult extends Meters {
  /** From the first createTree call until every createTree resolved. */
  createMs: number;
  /** From then until the last task's terminal event was published. */
  runMs: number;
  totalMs: number;
  tasksPerSec: number;
  /** Events the bus delivered (verified equal to the rows in task_events). */
  events: number;
  /** WAL the server wrote during the run (server-wide; PostgreSQL only). */
  walBytes: number | null;
  profile: Profile;
}

export interface CaseResult {
  backend: string;
  scenario: string;
  shape: string;
  tasks: number;
  /** The 1-minute load average when the case started: other work on the machine skews the figures. */
  loadBefore: number;
  runs: RunResult[];
}

export interface BenchReport {
  startedAt: string;
  machine: Record<string, string | number>;
  /** Commit measured (git), noting uncommitted changes. */
  code: string;
  settings: Record<string, string | number>;
  postgres: { source: string; version: string; settings: Record<string, string> } | null;
  cases: CaseResult[];
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** The run whose total time is the median: its profile is the one printed. */
function medianRun(runs: RunResult[]): RunResult {
  return [...runs].sort((a, b) => a.totalMs - b.totalMs)[Math.floor((runs.length - 1) / 2)]!;
}

function summary(c: CaseResult) {
  const of = (pick: (r: RunResult) => number) => spread(c.runs.map(pick));
  return {
    tasksPerSec: of((r) => r.tasksPerSec),
    totalMs: of((r) => r.totalMs),
    createMs: of((r) => r.createMs),
    runMs: of((r) => r.runMs),
    nodeCpuMs: of((r) => r.nodeCpuMs),
    walBytes: c.runs.every((r) => r.walBytes !== null) ? of((r) => r.walBytes!) : null,
    serverCpuMs: c.runs.every((r) => r.serverCpuMs !== null) ? of((r) => r.serverCpuMs!) : null,
    machineCpuPercent: of((r) => r.machineCpuPercent),
    loopBlockedMaxMs: of((r) => r.loopBlockedMaxMs),
  };
}

/** Columns padded to their widest cell; numbers right-aligned. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = header.map((_, i) => rows.every((r) => /^[-\d.,%() ]*( ms)?$/.test(r[i]!)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const sec = (ms: number) => (ms / 1000).toFixed(2);
const ms1 = (ms: number) => ms.toFixed(1);

export function printReport(report: BenchReport): void {
  const out: string[] = [];
  const { machine, settings, postgres } = report;
  out.push(`apflow benchmark, ${report.startedAt}, code ${report.code}`);
  out.push(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.platform}`);
  out.push(
    `settings: maxParallelTasks ${settings.maxParallelTasks}, pollIntervalMs ${settings.pollIntervalMs}, ` +
      `${settings.runs} run(s) each, executor noop, pg pool ${settings.pgPoolSize} connections, ` +
      `job-queue creates ${settings.createConcurrency} trees at once; PGlite ${settings.pglite}`,
  );
  if (postgres) {
    const extra = Object.entries(postgres.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    out.push(`postgres: ${postgres.version} from ${postgres.source}; ${extra}; a fresh database per run`);
  }
  out.push("");
  out.push("Shapes:");
  for (const shape of new Set(report.cases.map((c) => `  ${c.scenario}: ${c.shape}`))) out.push(shape);
  out.push("");
  out.push("End to end = first createTree call until the last task's terminal event is published");
  out.push("(create = until every createTree resolved; run = the rest). Median [min-max] over runs.");
  out.push("");
  out.push(
    table(
      ["backend", "scenario", "tasks", "tasks/s", "[min-max]", "total s", "create s", "run s", "events"],
      report.cases.map((c) => {
        const s = summary(c);
        return [
          c.backend,
          c.scenario,
          int(c.tasks),
          int(s.tasksPerSec.median),
          `(${int(s.tasksPerSec.min)}-${int(s.tasksPerSec.max)})`,
          sec(s.totalMs.median),
          sec(s.createMs.median),
          sec(s.runMs.median),
          int(medianRun(c.runs).events),
        ];
      }),
    ),
  );
  out.push("");
  out.push("Cost (medians). CPU per task: this process (Node, and PGlite inside it) and the PostgreSQL backends");
  out.push("serving the run (seen in /proc when the server is on this machine). WAL: bytes the server wrote per");
  out.push("task (server-wide). machine CPU: all cores busy, whoever used them; load: 1-minute load average");
  out.push("before the case (other work on the machine skews every figure).");
  out.push("loop blocked: the longest stretch the event loop ran no timer (lease renewal, HTTP requests).");
  out.push(
    table(
      [
        "backend",
        "scenario",
        "node µs/task",
        "server µs/task",
        "WAL bytes/task",
        "machine CPU",
        "load",
        "loop blocked",
      ],
      report.cases.map((c) => {
        const s = summary(c);
        return [
          c.backend,
          c.scenario,
          int((s.nodeCpuMs.median * 1000) / c.tasks),
          s.serverCpuMs ? int((s.serverCpuMs.median * 1000) / c.tasks) : "-",
          s.walBytes ? int(s.walBytes.median / c.tasks) : "-",
          `${Math.round(s.machineCpuPercent.median)}%`,
          c.loadBefore.toFixed(1),
          `${int(s.loopBlockedMaxMs.median)} ms`,
        ];
      }),
    ),
  );
  out.push("");
  out.push("Database time by transaction (median run). A transaction's wall time = wait for the connection");
  out.push("and BEGIN + its statements + COMMIT. Claim and finish overlap on PostgreSQL (two connections),");
  out.push("so busy times may add up to more than the run; on PGlite everything is serialised.");
  for (const c of report.cases) {
    const run = medianRun(c.runs);
    const rows = Object.entries(run.profile.transactions)
      .sort(([, a], [, b]) => b.ms - a.ms)
      .map(([kind, t]) => [
        kind,
        int(t.count),
        int(t.empty),
        t.count - t.empty > 0 ? (t.tasks / (t.count - t.empty)).toFixed(1) : "-",
        (t.statements / t.count).toFixed(1),
        (t.statements / c.tasks).toFixed(2),
        ms1(t.ms / t.count),
        ms1(t.waitMs / t.count),
        ms1(t.statementMs / t.count),
        ms1(t.commitMs / t.count),
        int(t.ms),
        `${Math.round((t.ms / run.totalMs) * 100)}%`,
        ((t.ms * 1000) / c.tasks).toFixed(0),
      ]);
    out.push("");
    out.push(`${c.backend} / ${c.scenario}: ${int(c.tasks)} tasks in ${sec(run.totalMs)} s`);
    out.push(
      table(
        [
          "txn",
          "count",
          "empty",
          "tasks/txn",
          "stmts/txn",
          "stmts/task",
          "ms/txn",
          "wait",
          "stmts",
          "commit",
          "busy ms",
          "of wall",
          "µs/task",
        ],
        rows,
      ),
    );
    out.push(split(run, c.tasks));
    const statements = Object.entries(run.profile.statements).flatMap(([kind, perKind]) =>
      Object.entries(perKind).map(([label, st]) => ({ kind, label, ...st })),
    );
    statements.sort((a, b) => b.ms - a.ms);
    out.push(
      table(
        ["  in txn", "statement", "calls", "ms total", "ms/call", "rows/call", "µs/task"],
        statements.map((st) => [
          `  ${st.kind}`,
          st.label,
          int(st.calls),
          int(st.ms),
          (st.ms / st.calls).toFixed(2),
          (st.rows / st.calls).toFixed(1),
          ((st.ms * 1000) / c.tasks).toFixed(0),
        ]),
      ),
    );
  }
  console.log(out.join("\n"));
}

/**
 * One line: database time by statement group (the label's prefix: claim, finish, events,
 * create, read, lease), plus BEGIN/connection wait and COMMIT, and round trips per task.
 */
function split(run: RunResult, tasks: number): string {
  const groups = new Map<string, number>();
  for (const perKind of Object.values(run.profile.statements)) {
    for (const [label, st] of Object.entries(perKind)) {
      const group = label.split(":")[0]!;
      groups.set(group, (groups.get(group) ?? 0) + st.ms);
    }
  }
  // A statement run on its own is a transaction too; its commit is in its statement time.
  const txns = Object.values(run.profile.transactions);
  const wait = txns.reduce((sum, t) => sum + t.waitMs, 0);
  const commit = txns.reduce((sum, t) => sum + t.commitMs, 0);
  const commits = txns.reduce((sum, t) => sum + t.count, 0);
  const statements = Object.values(run.profile.transactions).reduce((sum, t) => sum + t.statements, 0);
  const parts = [...groups.entries()].sort(([, a], [, b]) => b - a).map(([g, ms]) => `${g} ${int(ms)}`);
  return (
    `  split (ms): ${[...parts, `commit ${int(commit)}`, `wait+BEGIN ${int(wait)}`].join(", ")}; ` +
    `per task: ${(statements / tasks).toFixed(3)} statements, ${(commits / tasks).toFixed(3)} transactions`
  );
}

/** Writes `<timestamp>.json` and `latest.json`; returns their paths. */
export async function writeReport(report: BenchReport, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = `${JSON.stringify({ ...report, cases: report.cases.map((c) => ({ ...c, summary: summary(c) })) }, null, 2)}\n`;
  const stamped = path.join(dir, `${report.startedAt.replace(/[:.]/g, "-")}.json`);
  const latest = path.join(dir, "latest.json");
  await writeFile(stamped, json);
  await writeFile(latest, json);
  return [stamped, latest];
}
