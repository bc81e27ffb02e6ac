/**
 * Writes a subscription's results straight to its WebSocket. graphql-ws, left to
 * itself, handles each result of each subscription on its own: it serializes the
 * message and waits for the socket to have written it before it takes the next
 * one. With 1,000 subscribers on one tree that per-subscriber work, not GraphQL,
 * bounded how fast a status change reached the last of them. Here:
 *  - a result is serialized once, however many subscribers share it (see
 *    graphql/fan-out.ts); each subscriber only prefixes its operation id;
 *  - the frames a connection sends in one turn of the event loop go out in a few
 *    socket writes (corked until FLUSH_BYTES are waiting or the turn ends)
 *    instead of one system call each;
 *  - a subscription takes its next result at once while its connection's send
 *    buffer is below SEND_BUFFER_BYTES, and waits for the buffer to drain above
 *    it: a client that stops reading then stalls only its own subscriptions, whose
 *    event queues end them with SUBSCRIBER_TOO_SLOW, as before.
 * graphql-ws still runs the protocol: it gets a stream that never yields and ends
 * when the results end, so it sends `complete` (or `error`) after the last frame.
 */
import type { Socket } from "node:net";
import type { ExecutionResult, FormattedExecutionResult } from "graphql";
import { MessageType } from "graphql-ws";
import type { WebSocket } from "ws";

/** Bytes a connection may have waiting to be written before its subscriptions wait. */
export const SEND_BUFFER_BYTES = 1024 * 1024;

/**
 * Corked bytes that are written at once rather than at the end of the turn: a
 * burst of events then reaches the client while the rest is still being produced
 * (the client can start reading), at one system call per few dozen frames.
 */
const FLUSH_BYTES = 4096;

/** The WebSocket of a subscription and the TCP socket under it (graphql-ws's `ctx.extra`). */
export interface Connection {
  socket: WebSocket;
  request: { socket: Socket };
}

/** The payload of a `next` message: the result as the client may see it (errors masked). */
export type FormatResult = (result: ExecutionResult) => FormattedExecutionResult | ExecutionResult;

const serialized = new WeakMap<ExecutionResult, string>();
const corked = new WeakSet<Socket>();
const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };

/**
 * Delivers `results` as `next` messages of operation `id` on `connection`, and
 * returns what graphql-ws should treat as the operation's result stream.
 */
export function deliverSubscription(
  connection: Connection,
  id: string,
  results: AsyncIterable<ExecutionResult>,
  format: FormatResult,
): AsyncGenerator<ExecutionResult> {
  const ws = connection.socket;
  const tcp = connection.request.socket;
  const prefix = `{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`;
  const source = results[Symbol.asyncIterator]();
  let stopped = false;
  let settle: (error?: unknown) => void = () => {};
  const ended = new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve(DONE) : reject(error));
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    settle();
    // Not awaited: a source waiting for its next event only ends when one comes.
    source.return?.().catch(() => {});
  };

  void (async () => {
    try {
      for (;;) {
        const step = await source.next();
        if (step.done || stopped) break;
        if (ws.readyState !== ws.OPEN) break; // closing: graphql-ws ends the operation
        send(ws, tcp, `${prefix}${payloadOf(step.value, format)}}`);
        if (ws.bufferedAmount > SEND_BUFFER_BYTES) await drained(tcp);
      }
      settle();
    } catch (error) {
      settle(error);
    }
  })();

  const stream: AsyncGenerator<ExecutionResult> = {
    next: () => ended,
    return: () => {
      stop();
      return Promise.resolve(DONE);
    },
    throw: (error: unknown) => {
      stop();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}

/** The result's JSON, computed once per result object (shared results are common). */
function payloadOf(result: ExecutionResult, format: FormatResult): string {
  let json = serialized.get(result);
  if (json === undefined) {
    json = JSON.stringify(format(result));
    serialized.set(result, json);
  }
  return json;
}

function send(ws: WebSocket, tcp: Socket, frame: string): void {
  if (!corked.has(tcp)) {
    corked.add(tcp);
    tcp.cork();
    setImmediate(() => flush(tcp));
  }
  ws.send(frame);
  if (tcp.writableLength >= FLUSH_BYTES) flush(tcp);
}

/** Writes what is corked. Uncorking a socket that is not corked does nothing. */
function flush(tcp: Socket): void {
  if (!corked.delete(tcp)) return;
  tcp.uncork();
}

function drained(tcp: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      tcp.off("drain", done);
      tcp.off("close", done);
      resolve();
    };
    tcp.on("drain", done);
    tcp.on("close", done);
  });
}
