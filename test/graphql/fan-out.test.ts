/**
 * Shared subscription execution (src/graphql/fan-out.ts) on a small schema whose
 * resolver counts its calls: subscribers fed the same event object with the same
 * selection cost one execution; a different selection, or a variable the
 * selection reads, gets its own.
 */
import {
  type ExecutionResult,
  GraphQLBoolean,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
} from "graphql";
import { describe, expect, it } from "vitest";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { EventQueue } from "../../src/core/event-queue.js";
import type { TaskEvent } from "../../src/core/types.js";
import { subscribeWithFanOut } from "../../src/graphql/fan-out.js";
import { progressEvent } from "../support/events.js";

function fixture() {
  const bus = new LocalEventBus();
  const calls: string[] = [];
  const Event = new GraphQLObjectType<TaskEvent>({
    name: "Event",
    fields: {
      seq: { type: GraphQLInt },
      label: {
        type: GraphQLString,
        args: { upper: { type: GraphQLBoolean } },
        resolve: (event, args: { upper?: boolean | null }) => {
          calls.push(`${event.seq}${args.upper ? "U" : ""}`);
          return args.upper ? event.taskId.toUpperCase() : event.taskId;
        },
      },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: "Query", fields: { ok: { type: GraphQLBoolean } } }),
    subscription: new GraphQLObjectType({
      name: "Subscription",
      fields: {
        events: {
          type: Event,
          // `after` only chooses the stream, as in the real schema.
          args: { after: { type: GraphQLInt } },
          subscribe: (_root, args: { after?: number | null }) => {
            const queue = new EventQueue(bus, "tree");
            const after = args.after ?? 0;
            return (async function* () {
              try {
                for await (const event of queue) if (event.seq > after) yield event;
              } finally {
                queue.close();
              }
            })();
          },
          resolve: (event: TaskEvent) => event,
        },
      },
    }),
  });
  const subscribe = async (query: string, variableValues: Record<string, unknown> = {}) => {
    const stream = await subscribeWithFanOut({ schema, document: parse(query), variableValues });
    if (!(Symbol.asyncIterator in stream)) throw new Error(JSON.stringify(stream));
    return stream;
  };
  let seq = 0;
  const publish = () => {
    seq++;
    bus.publish([progressEvent(seq, `task${seq}`)]);
  };
  return { calls, subscribe, publish };
}

const Labels =
  "subscription Labels($after: Int, $upper: Boolean) { events(after: $after) { seq label(upper: $upper) } }";

async function take(stream: AsyncGenerator<ExecutionResult>, n: number): Promise<unknown[]> {
  const values: unknown[] = [];
  while (values.length < n) values.push((await stream.next()).value?.data);
  return values;
}

describe("subscribeWithFanOut", () => {
  it("executes an event once for every subscriber with the same selection, whatever their root arguments", async () => {
    const f = fixture();
    const a = await f.subscribe(Labels, { after: 0 });
    const b = await f.subscribe(Labels, { after: 1 });
    const reading = Promise.all([take(a, 2), take(b, 1)]);
    f.publish();
    f.publish();
    const [fromA, fromB] = await reading;
    expect(fromA).toEqual([{ events: { seq: 1, label: "task1" } }, { events: { seq: 2, label: "task2" } }]);
    expect(fromB).toEqual([{ events: { seq: 2, label: "task2" } }]);
    expect(f.calls).toEqual(["1", "2"]);
    await Promise.all([a.return(undefined), b.return(undefined)]);
  });

  it("executes separately for a variable the selection reads, and for another document", async () => {
    const f = fixture();
    const lower = await f.subscribe(Labels, { upper: false });
    const upper = await f.subscribe(Labels, { upper: true });
    const other = await f.subscribe("subscription { events { label } }");
    const reading = Promise.all([take(lower, 1), take(upper, 1), take(other, 1)]);
    f.publish();
    expect(await reading).toEqual([
      [{ events: { seq: 1, label: "task1" } }],
      [{ events: { seq: 1, label: "TASK1" } }],
      [{ events: { label: "task1" } }],
    ]);
    expect(f.calls.sort()).toEqual(["1", "1", "1U"]);
    await Promise.all([lower.return(undefined), upper.return(undefined), other.return(undefined)]);
  });

  it("ends one subscriber without disturbing the others", async () => {
    const f = fixture();
    const leaving = await f.subscribe(Labels);
    const staying = await f.subscribe(Labels);
    const first = Promise.all([take(leaving, 1), take(staying, 1)]);
    f.publish();
    await first;
    expect(await leaving.return(undefined)).toEqual({ value: undefined, done: true });
    const next = take(staying, 1);
    f.publish();
    expect(await next).toEqual([{ events: { seq: 2, label: "task2" } }]);
    expect(await leaving.next()).toEqual({ value: undefined, done: true });
    await staying.return(undefined);
  });
});
