/** Small executors with observable behaviour for engine tests. */
import { ApflowError, ErrorCode } from "../../src/core/errors.js";
import { defineExecutor, type Executor } from "../../src/core/executor.js";
import type { JsonObject } from "../../src/core/types.js";

export interface Probe {
  /** Task names in the order their executors started. */
  started: string[];
  /** Inputs each task's executor received, by task name. */
  inputs: Map<string, JsonObject>;
  /** Names of tasks whose executor saw its signal abort, with the reason's code. */
  aborted: Map<string, string>;
  /** Resolvers for tasks blocked in the `gate` executor, by task name. */
  gates: Map<string, () => void>;
  /** Tasks of the `switch` executor named here fail; the others complete. */
  failing: Set<string>;
}

export function newProbe(): Probe {
  return { started: [], inputs: new Map(), aborted: new Map(), gates: new Map(), failing: new Set() };
}

const schema = { type: "object" };

export function testExecutors(probe: Probe): Executor[] {
  const note = (name: string, inputs: JsonObject) => {
    probe.started.push(name);
    probe.inputs.set(name, inputs);
  };
  const waitOrAbort = (signal: AbortSignal, name: string, ms: number | null, onGate?: (open: () => void) => void) =>
    new Promise<void>((resolve, reject) => {
      const timer = ms === null ? undefined : setTimeout(resolve, ms);
      onGate?.(resolve);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          const reason = signal.reason as { code?: string };
          probe.aborted.set(name, reason?.code ?? "ABORTED");
          reject(signal.reason);
        },
        { once: true },
      );
    });
  return [
    defineExecutor({
      id: "noop",
      description: "returns { ok: true }",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        return { ok: true };
      },
    }),
    defineExecutor({
      id: "echo",
      description: "returns its inputs (or inputs.value when given)",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        return inputs.value === undefined ? inputs : inputs.value;
      },
    }),
    defineExecutor({
      id: "fail",
      description: "always fails",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        throw new ApflowError(ErrorCode.EXECUTOR_FAILED, String(inputs.message ?? "boom"));
      },
    }),
    defineExecutor({
      id: "flaky",
      description: "fails until attempt >= inputs.succeedOn",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        if (ctx.task.attempt < Number(inputs.succeedOn)) throw new Error(`attempt ${ctx.task.attempt} failed`);
        return { attempt: ctx.task.attempt };
      },
    }),
    defineExecutor({
      id: "switch",
      description: "fails while its name is in probe.failing",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        if (probe.failing.has(ctx.task.name)) throw new Error(`${ctx.task.name} is switched to fail`);
        return { ok: true };
      },
    }),
    defineExecutor({
      id: "sleep",
      description: "waits inputs.ms (or forever), honouring the signal",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        await waitOrAbort(ctx.signal, ctx.task.name, typeof inputs.ms === "number" ? inputs.ms : null);
        return { slept: inputs.ms ?? null };
      },
    }),
    defineExecutor({
      id: "gate",
      description: "waits until the test opens probe.gates[name]",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        await waitOrAbort(ctx.signal, ctx.task.name, null, (open) => probe.gates.set(ctx.task.name, open));
        return { opened: true };
      },
    }),
    defineExecutor({
      id: "progress",
      description: "reports 0.25 then 0.5, then completes",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        ctx.reportProgress(0.25, "a quarter");
        await new Promise((r) => setTimeout(r, 30));
        ctx.reportProgress(0.5, "half");
        await new Promise((r) => setTimeout(r, 30));
        return { done: true };
      },
    }),
    defineExecutor({
      id: "ignore_abort",
      description: "never settles and ignores its signal",
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        return new Promise(() => {});
      },
    }),
  ];
}
