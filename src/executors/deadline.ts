/**
 * Cancellation plus a time limit for one executor run. Executors that talk to a peer
 * need both to stop the same way: one signal for everything they start, whose reason
 * is what the task fails with (the engine's reason on cancellation, TIMEOUT on the
 * limit), and a prompt rejection even while a step (DNS, a child's startup) ignores it.
 * `bounded` is the same race for a single step with its own timeout error (websocket,
 * grpc and ssh bound their address guard and connection by it), and `sleep` a pause
 * (polling, retry back-off) that cancellation cuts short.
 */
import { ApflowError, ErrorCode } from "../core/errors.js";

/**
 * One signal for a run: it aborts with the parent's reason on cancellation, or with
 * `timeout()` after `timeoutMs`. `aborted` rejects with that reason, for racing steps
 * that ignore signals. Call `dispose()` when the run ends.
 */
export interface RunDeadline {
  signal: AbortSignal;
  aborted: Promise<never>;
  dispose(): void;
}

export function runDeadline(parent: AbortSignal, timeoutMs: number | undefined, timeout: () => unknown): RunDeadline {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(timeout()), timeoutMs);
  const aborted = new Promise<never>((_, reject) =>
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }),
  );
  aborted.catch(() => {}); // observed only through the caller's race
  return {
    signal: controller.signal,
    aborted,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}

export async function withDeadline<T>(
  parent: AbortSignal,
  timeoutMs: number | undefined,
  timeoutMessage: () => string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  parent.throwIfAborted();
  const deadline = runDeadline(
    parent,
    timeoutMs,
    () => new ApflowError(ErrorCode.TIMEOUT, timeoutMessage(), { timeoutMs }),
  );
  try {
    return await Promise.race([run(deadline.signal), deadline.aborted]);
  } catch (error) {
    if (deadline.signal.aborted) throw deadline.signal.reason;
    throw error;
  } finally {
    deadline.dispose();
  }
}

/**
 * `promise`, or the abort reason, or a timeout error, whichever comes first: for one step
 * (a DNS lookup, a connection) that cannot itself be aborted, inside an already-running task.
 */
export function bounded<T>(promise: Promise<T>, signal: AbortSignal, ms: number, timeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => done(() => reject(signal.reason));
    const timer = setTimeout(() => done(() => reject(timeout())), ms);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      settle();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => done(() => resolve(value)),
      (error: unknown) => done(() => reject(error)),
    );
  });
}

/** Waits `ms`, or rejects with the abort reason as soon as `signal` aborts (at once if it has). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
