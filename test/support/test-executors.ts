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
  /** An executor that notes its start in the probe before it runs. */
  const probed = (id: string, description: string, run: Executor["execute"]): Executor =>
    defineExecutor({
      id,
      description,
      inputSchema: schema,
      async execute(inputs, ctx) {
        note(ctx.task.name, inputs);
        return run(inputs, ctx);
      },
    });
  return [
    probed("noop", "returns { ok: true }", async () => ({ ok: true })),
    probed("echo", "returns its inputs (or inputs.value when given)", async (inputs) =>
      inputs.value === undefined ? inputs : inputs.value,
    ),
    probed("fail", "always fails", async (inputs) => {
      throw new ApflowError(ErrorCode.EXECUTOR_FAILED, String(inputs.message ?? "boom"));
    }),
    probed("flaky", "fails until attempt >= inputs.succeedOn", async (inputs, ctx) => {
      if (ctx.task.attempt < Number(inputs.succeedOn)) throw new Error(`attempt ${ctx.task.attempt} failed`);
      return { attempt: ctx.task.attempt };
    }),
    probed("switch", "fails while its name is in probe.failing", async (_inputs, ctx) => {
      if (probe.failing.has(ctx.task.name)) throw new Error(`${ctx.task.name} is switched to fail`);
      return { ok: true };
    }),
    probed("sleep", "waits inputs.ms (or forever), honouring the signal", async (inputs, ctx) => {
      await waitOrAbort(ctx.signal, ctx.task.name, typeof inputs.ms === "number" ? inputs.ms : null);
      return { slept: inputs.ms ?? null };
    }),
    probed("gate", "waits until the test opens probe.gates[name]", async (_inputs, ctx) => {
      await waitOrAbort(ctx.signal, ctx.task.name, null, (open) => probe.gates.set(ctx.task.name, open));
      return { opened: true };
    }),
    probed("progress", "reports 0.25 then 0.5, then completes", async (_inputs, ctx) => {
      ctx.reportProgress(0.25, "a quarter");
      await new Promise((r) => setTimeout(r, 30));
      ctx.reportProgress(0.5, "half");
      await new Promise((r) => setTimeout(r, 30));
      return { done: true };
    }),
    probed("ignore_abort", "never settles and ignores its signal", () => new Promise(() => {})),
  ];
}
