/**
 * Cancellation plus a time limit for one executor run. Executors that talk to a peer
 * need both to stop the same way: one signal for everything they start, whose reason
 * is what the task fails with (the engine's reason on cancellation, TIMEOUT on the
 * limit), and a prompt rejection even while a step (DNS, a child's startup) ignores it.
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
