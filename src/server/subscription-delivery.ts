/**
 * Writes a subscription's results straight to its connection. graphql-ws, left to
 * itself, handles each result of each subscription on its own: it serializes the
 * message, frames it, writes it (a system call) and waits for the write before it
 * takes the next one. With 1,000 subscribers on one tree that per-subscriber work,
 * not GraphQL, bounded how fast a status change reached the last of them. Here:
 *  - a result is serialized (and UTF-8 encoded) once, however many subscribers
 *    share it (see graphql/fan-out.ts); each subscriber adds its operation id;
 *  - the frames a connection sends within one turn of the event loop are framed
 *    into one buffer and written at once (at FLUSH_BYTES, or when the turn ends);
 *  - a subscription takes its next result at once while its connection has less
 *    than SEND_BUFFER_BYTES waiting, and waits for the socket to drain above it: a
 *    client that stops reading stalls only its own subscriptions, whose event
 *    queues then end them with SUBSCRIBER_TOO_SLOW, as before.
 * graphql-ws still runs the protocol: it gets a stream that never yields and ends
 * when the results end, so it sends `complete` (or `error`) after the last frame.
 */
import type { Socket } from "node:net";
import type { ExecutionResult, FormattedExecutionResult } from "graphql";
import { MessageType } from "graphql-ws";
import type { WebSocket } from "ws";
import type { SharedResultStream } from "../graphql/fan-out.js";

/** Bytes a connection may have waiting to be written before its subscriptions wait. */
const SEND_BUFFER_BYTES = 1024 * 1024;

/**
 * Waiting bytes written at once rather than at the end of the turn: a burst of
 * events reaches the client while the rest is still being produced.
 */
const FLUSH_BYTES = 4096;

/** The WebSocket of a subscription and the TCP socket under it (graphql-ws's `ctx.extra`). */
export interface Connection {
  socket: WebSocket;
  request: { socket: Socket };
}

/** The payload of a `next` message: the result as the client may see it (errors masked). */
export type FormatResult = (result: ExecutionResult) => FormattedExecutionResult | ExecutionResult;

const serialized = new WeakMap<ExecutionResult, Buffer>();
const CLOSE_BRACE = Buffer.from("}");
const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };

/**
 * Delivers `results` as `next` messages of operation `id` on `connection`, and
 * returns what graphql-ws should treat as the operation's result stream.
 */
export function deliverSubscription(
  connection: Connection,
  id: string,
  results: AsyncIterable<ExecutionResult> | SharedResultStream,
  format: FormatResult,
): AsyncGenerator<ExecutionResult> {
  const outbox = outboxOf(connection);
  // A `next` message is this, the payload, and a closing brace.
  const head = Buffer.from(`{"id":${JSON.stringify(id)},"type":"${MessageType.Next}","payload":`);
  const source = results[Symbol.asyncIterator]();
  const takeReady = () => ("takeReady" in results ? results.takeReady() : []);
  let stopped = false;
  let resolveEnded: (step: IteratorResult<ExecutionResult>) => void = () => {};
  let rejectEnded: (error: unknown) => void = () => {};
  const ended = new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
    resolveEnded = resolve;
    rejectEnded = reject;
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    resolveEnded(DONE);
    // Not awaited: a source waiting for its next event only ends when one comes.
    source.return?.().catch(() => {});
  };

  void (async () => {
    let exhausted = false;
    try {
      deliver: for (;;) {
        const step = await source.next();
        exhausted = step.done === true;
        if (exhausted || stopped || !outbox.open()) break;
        outbox.add(head, payloadOf(step.value, format), CLOSE_BRACE);
        // What the source already holds goes out now, not one awaited step each.
        for (const ready of takeReady()) {
          const result = ready instanceof Promise ? await ready : ready;
          if (stopped || !outbox.open()) break deliver;
          outbox.add(head, payloadOf(result, format), CLOSE_BRACE);
          if (outbox.waiting() > SEND_BUFFER_BYTES) await outbox.drained();
        }
        if (outbox.waiting() > SEND_BUFFER_BYTES) await outbox.drained();
      }
      // Before graphql-ws sends `complete`: it must follow the last `next`.
      outbox.flush();
      // Ended early (connection closing): graphql-ws forgets the operation once it
      // ends, so the source (and its bus listener) is released here.
      if (!exhausted) source.return?.().catch(() => {});
      resolveEnded(DONE);
    } catch (error) {
      outbox.flush();
      source.return?.().catch(() => {});
      rejectEnded(error);
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

/** The result's JSON as UTF-8, computed once per result object (shared results are common). */
function payloadOf(result: ExecutionResult, format: FormatResult): Buffer {
  let json = serialized.get(result);
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(format(result)));
    serialized.set(result, json);
  }
  return json;
}

/** Text messages waiting to be written on one connection, in order. */
interface Outbox {
  open(): boolean;
  /** Queues one text message: the three parts, in this order. */
  add(head: Buffer, body: Buffer, tail: Buffer): void;
  /** Bytes not yet written to the network: in the outbox and in the socket. */
  waiting(): number;
  flush(): void;
  /** Resolves once the socket has written what it holds, or closed. */
  drained(): Promise<void>;
}

const outboxes = new WeakMap<WebSocket, Outbox>();

function outboxOf({ socket: ws, request: { socket: tcp } }: Connection): Outbox {
  let outbox = outboxes.get(ws);
  if (!outbox) {
    // Frames written beside ws's must be whole and in order: true without extensions.
    if (ws.extensions !== "") {
      throw new Error(`subscriptions cannot be delivered with WebSocket extensions (${ws.extensions}) negotiated`);
    }
    outbox = framingOutbox(ws, tcp);
    outboxes.set(ws, outbox);
  }
  return outbox;
}

/**
 * Frames the messages itself (RFC 6455: FIN, text, unmasked as from a server) and
 * writes a turn's worth to the TCP socket in one call. Safe beside ws's own
 * writes because each write holds whole frames and, with no extension negotiated
 * (no compression), ws writes every frame it sends at once, in call order.
 */
function framingOutbox(ws: WebSocket, tcp: Socket): Outbox {
  let parts: Buffer[] = []; // three per message
  let bytes = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (parts.length === 0) return;
    const pending = parts;
    const total = bytes;
    parts = [];
    bytes = 0;
    if (ws.readyState !== ws.OPEN) return; // closing: nothing more may follow the close frame
    const buffer = Buffer.allocUnsafe(total);
    let offset = 0;
    for (let i = 0; i < pending.length; i += 3) {
      const head = pending[i]!;
      const body = pending[i + 1]!;
      const tail = pending[i + 2]!;
      offset = writeHeader(buffer, offset, head.length + body.length + tail.length);
      offset += head.copy(buffer, offset);
      offset += body.copy(buffer, offset);
      offset += tail.copy(buffer, offset);
    }
    tcp.write(buffer);
  };
  return {
    open: () => ws.readyState === ws.OPEN,
    add(head, body, tail) {
      const length = head.length + body.length + tail.length;
      parts.push(head, body, tail);
      bytes += headerSize(length) + length;
      if (bytes >= FLUSH_BYTES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    waiting: () => bytes + tcp.writableLength,
    flush,
    drained: () => {
      flush();
      return new Promise((resolve) => {
        const done = () => {
          tcp.off("drain", done);
          tcp.off("close", done);
          resolve();
        };
        tcp.on("drain", done);
        tcp.on("close", done);
      });
    },
  };
}

function headerSize(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(buffer: Buffer, offset: number, length: number): number {
  buffer[offset] = 0x81; // FIN + text frame
  if (length < 126) {
    buffer[offset + 1] = length;
    return offset + 2;
  }
  if (length < 65_536) {
    buffer[offset + 1] = 126;
    buffer.writeUInt16BE(length, offset + 2);
    return offset + 4;
  }
  buffer[offset + 1] = 127;
  buffer.writeUInt32BE(Math.floor(length / 2 ** 32), offset + 2);
  buffer.writeUInt32BE(length >>> 0, offset + 6);
  return offset + 10;
}
