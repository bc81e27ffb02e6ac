/**
 * Cancellation plus a time limit for one executor run. Executors that talk to a peer
 * need both to stop the same way: one signal for everything they start, whose reason
 * is what the task fails with (the engine's reason on cancellation, TIMEOUT on the
 * limit), and a prompt rejection even while a step (DNS, a child's startup) ignores it.
 * `bounded` is the same race for a single step with its own timeout error (websocket,
 * grpc and ssh bound their address guard and connection by it).
 */
import { ApflowError, ErrorCode } from "../core/errors.js";

export async function withDeadline<T>(
  parent: AbortSignal,
  timeoutMs: number | undefined,
  timeoutMessage: () => string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  parent.throwIfAborted();
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new ApflowError(ErrorCode.TIMEOUT, timeoutMessage(), { timeoutMs })),
          timeoutMs,
        );
  const aborted = new Promise<never>((_, reject) =>
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }),
  );
  aborted.catch(() => {}); // only observed through the race below
  try {
    return await Promise.race([run(controller.signal), aborted]);
  } catch (error) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    parent.removeEventListener("abort", onAbort);
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
