/**
 * GraphQL benchmarks (`npm run bench:graphql`, also run by `npm run bench`):
 *  (a) a nested tree query through the API against a hand-written recursive CTE that
 *      returns the same data, over trees of 1,000 and 10,000 tasks: latency and ratio;
 *  (b) 1,000 graphql-ws subscribers (100 connections) on one running tree of 31
 *      tasks of 500 ms, 3 at a time: delay from the engine publishing a status
 *      change to each subscriber receiving it (p50, p99), measured once every
 *      subscriber has replayed the stored history. The subscribers run in a
 *      child process, as remote dashboards would, so that their own work (1,000
 *      graphql-ws clients parsing every message) is not charged to the server's
 *      event loop; delays are measured on the wall clock both processes share.
 * Runs on embedded PGlite (the default); BENCH_GRAPHQL_SUBSCRIBERS and
 * BENCH_GRAPHQL_SIZES scale it down for a quick look.
 */
import { fork } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createApflow } from "../src/apflow.js";
import { graphql } from "../src/client/gql/index.js";
import { defineExecutor } from "../src/core/executor.js";
import type { TaskSpec } from "../src/core/tree-plan.js";
import { buildApp } from "../src/server/app.js";
import { aggregateTree } from "../test/support/trees.js";

const SIZES = (process.env.BENCH_GRAPHQL_SIZES ?? "1000,10000").split(",").map(Number);
const SUBSCRIBERS = Number(process.env.BENCH_GRAPHQL_SUBSCRIBERS ?? 1000);
const REPEATS = Number(process.env.BENCH_GRAPHQL_REPEATS ?? 15);
/** Untimed runs of both queries first, so both are measured warm (JIT-compiled, caches filled). */
const WARMUP = Number(process.env.BENCH_GRAPHQL_WARMUP ?? 5);

const TreeQuery = graphql(`
  query BenchTree($id: ID!) {
    task(id: $id) {
      ...BenchLevel
      children {
        ...BenchLevel
        children {
          ...BenchLevel
          children {
            ...BenchLevel
          }
        }
      }
    }
  }
  fragment BenchLevel on Task {
    id
    name
    status
    progress
    dependencies {
      required
      task {
        id
      }
    }
  }
`);

const Follow = print(
  graphql(`
    subscription BenchFollow($rootId: ID!) {
      taskTreeEvents(rootId: $rootId) {
        seq
        type
      }
    }
  `),
);

/** Same data as TreeQuery, by hand: every task of the subtree with its dependency edges, in one statement. */
const CTE = `
  WITH RECURSIVE sub AS (
    SELECT id, 0 AS level FROM tasks WHERE id = $1
    UNION ALL
    SELECT t.id, sub.level + 1 FROM tasks t JOIN sub ON t.parent_id = sub.id WHERE sub.level < 3
  )
  SELECT t.id, t.parent_id, t.name, t.status, t.progress, t.position,
         coalesce(json_agg(json_build_object('required', d.required, 'id', d.depends_on_id) ORDER BY d.position)
                  FILTER (WHERE d.task_id IS NOT NULL), '[]') AS dependencies
    FROM sub JOIN tasks t ON t.id = sub.id
    LEFT JOIN task_dependencies d ON d.task_id = t.id
   GROUP BY t.id
   ORDER BY t.depth, t.position`;

/** A 4-level aggregate tree of about `size` tasks (fan-out f with 1 + f + f^2 + f^3 >= size). */
function tree(size: number): TaskSpec[] {
  let f = 2;
  while (1 + f + f * f + f * f * f < size) f++;
  return aggregateTree(f, 4, "noop");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Milliseconds since the epoch, with sub-millisecond precision, comparable across processes. */
const wallClock = () => performance.timeOrigin + performance.now();

interface SubscribersInput {
  wsUrl: string;
  rootId: string;
  subscribers: number;
  connections: number;
  /** The tree's last stored event before the run: a subscriber is ready once it has replayed up to it. */
  replayedSeq: number;
}

/** Every delivery: the event's seq and when it arrived (wallClock); the CPU the clients used meanwhile. */
interface SubscribersOutput {
  seqs: Int32Array;
  receivedAt: Float64Array;
  cpuMs: number;
  /** From the first subscribe to the last subscriber having replayed the stored events. */
  replayMs: number;
}

/**
 * The subscribers' process: opens the connections, subscribes, says "ready" once every
 * subscriber has had its first event, and posts every delivery when all complete.
 */
async function runSubscribers({ wsUrl, rootId, subscribers, connections, replayedSeq }: SubscribersInput) {
  const seqs: number[] = [];
  const receivedAt: number[] = [];
  const clients = Array.from({ length: connections }, () =>
    createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 }),
  );
  let ready = 0;
  let cpuBefore = process.cpuUsage();
  const subscribedAt = performance.now();
  let replayMs = 0;
  const done = Array.from(
    { length: subscribers },
    (_, i) =>
      new Promise<void>((resolve, reject) => {
        let replaying = true;
        clients[i % clients.length]!.subscribe<{ taskTreeEvents: { seq: number } }>(
          { query: Follow, variables: { rootId } },
          {
            next: ({ data }) => {
              receivedAt.push(wallClock());
              seqs.push(data!.taskTreeEvents.seq);
              // Ready once the stored history is replayed: live events queued behind
              // 31,000 replayed ones would measure the replay, not the delivery.
              if (replaying && data!.taskTreeEvents.seq >= replayedSeq) {
                replaying = false;
                if (++ready === subscribers) {
                  replayMs = performance.now() - subscribedAt;
                  cpuBefore = process.cpuUsage();
                  process.send!("ready");
                }
              }
            },
            error: reject,
            complete: resolve,
          },
        );
      }),
  );
  await Promise.all(done);
  await Promise.all(clients.map((c) => c.dispose()));
  const cpu = process.cpuUsage(cpuBefore);
  const output: SubscribersOutput = {
    seqs: Int32Array.from(seqs),
    receivedAt: Float64Array.from(receivedAt),
    cpuMs: (cpu.user + cpu.system) / 1000,
    replayMs,
  };
  process.send!(output, () => process.disconnect());
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), "apflow-bench-graphql-"));
  const noop = defineExecutor({
    id: "noop",
    description: "no-op",
    inputSchema: { type: "object" },
    execute: async () => ({}),
  });
  const sleepy = defineExecutor({
    id: "sleepy",
    description: "sleeps a little",
    inputSchema: { type: "object" },
    execute: () => new Promise((resolve) => setTimeout(() => resolve({}), 500)),
  });
  const databaseUrl = process.env.BENCH_GRAPHQL_DATABASE_URL;
  const apflow = await createApflow({
    ...(databaseUrl ? { databaseUrl } : { dataDir: dir }),
    logLevel: "error",
    executors: [noop, sleepy],
    maxParallelTasks: 3,
  });
  const app = buildApp({ apflow, port: 0, maxBodyBytes: 64 * 1024 * 1024 });
  const url = await app.start();
  const results: Record<string, unknown> = {
    storage: databaseUrl ? "PostgreSQL" : "PGlite (on disk)",
    subscribers: SUBSCRIBERS,
    repeats: REPEATS,
    warmup: WARMUP,
  };
  try {
    // (a) nested query against the recursive CTE
    const queries = [];
    for (const size of SIZES) {
      const specs = tree(size);
      const root = await apflow.createTree(specs);
      const api: number[] = [];
      const cte: number[] = [];
      for (let i = 0; i < WARMUP + REPEATS; i++) {
        let t = performance.now();
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: print(TreeQuery), variables: { id: root.id } }),
        });
        const body = (await response.json()) as { errors?: unknown };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        if (i >= WARMUP) api.push(performance.now() - t);
        t = performance.now();
        const rows = await apflow.database.sql.query(CTE, [root.id]);
        if (rows.length !== specs.length) throw new Error(`CTE returned ${rows.length} rows, expected ${specs.length}`);
        if (i >= WARMUP) cte.push(performance.now() - t);
      }
      queries.push({
        tasks: specs.length,
        apiMedianMs: median(api),
        cteMedianMs: median(cte),
        ratio: median(api) / median(cte),
      });
    }
    results.nestedQuery = queries;

    // (b) many subscribers on one running tree
    const specs: TaskSpec[] = [{ name: "root", executor: "sleepy" }];
    // A dashboard's pace: 30 tasks of 500 ms, 3 at a time (about 20 status changes a
    // second, each delivered to every subscriber).
    for (let i = 0; i < 30; i++) specs.push({ name: `t${i}`, executor: "sleepy", parentId: "root" });
    const root = await apflow.createTree(specs);
    const published = new Map<number, number>();
    const [stored] = await apflow.database.sql.query<{ event_seq: number }>(
      "SELECT event_seq FROM task_trees WHERE id = $1",
      [root.treeId],
    );
    apflow.subscribe(root.treeId, (event) => {
      if (!published.has(event.seq)) published.set(event.seq, wallClock());
    });
    const input: SubscribersInput = {
      wsUrl: app.wsUrl,
      rootId: root.id,
      subscribers: SUBSCRIBERS,
      connections: Math.ceil(SUBSCRIBERS / 10),
      replayedSeq: Number(stored!.event_seq),
    };
    const subscribers = fork(fileURLToPath(import.meta.url), [JSON.stringify(input)], {
      execArgv: ["--import", "tsx"],
      serialization: "advanced", // typed arrays as they are
    });
    let cpuBefore = process.cpuUsage();
    let started = 0;
    const {
      seqs,
      receivedAt,
      cpuMs: clientCpuMs,
      replayMs,
    } = await new Promise<SubscribersOutput>((resolve, reject) => {
      subscribers.on("message", (message: "ready" | SubscribersOutput) => {
        if (message !== "ready") return resolve(message);
        // Everyone has replayed the "created" events: go.
        cpuBefore = process.cpuUsage();
        started = performance.now();
        apflow.executeTask(root.id).catch(reject);
      });
      subscribers.once("error", reject);
      subscribers.once("exit", (code) => reject(new Error(`the subscribers' process exited with code ${code}`)));
    });
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - started;
    const delays: number[] = [];
    for (let i = 0; i < seqs.length; i++) {
      const sent = published.get(seqs[i]!);
      if (sent !== undefined) delays.push(receivedAt[i]! - sent);
    }
    const sorted = delays.sort((a, b) => a - b);
    results.subscriptions = {
      subscribers: SUBSCRIBERS,
      connections: input.connections,
      eventsPerSubscriber: published.size,
      deliveries: delays.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1),
      wallMs,
      // CPU of this process (server, engine and PGlite) while the tree ran: unlike
      // the delays, it does not grow when other work on the machine competes.
      serverCpuMs: (cpu.user + cpu.system) / 1000,
      // The same for the subscribers' process: 1,000 clients decoding every message.
      clientCpuMs,
      // Before the run: every subscriber replaying the tree's stored events.
      replayedEvents: SUBSCRIBERS * Number(stored!.event_seq),
      replayMs,
    };
  } finally {
    await app.stop();
    await apflow.close();
    await rm(dir, { recursive: true, force: true });
  }

  const out = path.join(path.dirname(new URL(import.meta.url).pathname), "results");
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, "graphql-latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\nGraphQL: nested 4-level tree query (API over HTTP vs one recursive CTE), median of ${REPEATS} after ${WARMUP} untimed`,
  );
  console.log("| tasks | API ms | CTE ms | ratio |\n| ---: | ---: | ---: | ---: |");
  for (const q of results.nestedQuery as { tasks: number; apiMedianMs: number; cteMedianMs: number; ratio: number }[]) {
    console.log(`| ${q.tasks} | ${q.apiMedianMs.toFixed(1)} | ${q.cteMedianMs.toFixed(1)} | ${q.ratio.toFixed(2)}x |`);
  }
  const s = results.subscriptions as Record<string, number>;
  console.log(
    `\nGraphQL: ${s.subscribers} graphql-ws subscribers (${s.connections} connections) on one running tree, ${s.eventsPerSubscriber} events each`,
  );
  console.log(
    `| deliveries | p50 ms | p99 ms | max ms | server CPU ms | clients CPU ms | replay of stored events |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  );
  console.log(
    `| ${s.deliveries} | ${s.p50Ms?.toFixed(1)} | ${s.p99Ms?.toFixed(1)} | ${s.maxMs?.toFixed(1)} | ${s.serverCpuMs?.toFixed(0)} | ${s.clientCpuMs?.toFixed(0)} | ${s.replayedEvents} in ${s.replayMs?.toFixed(0)} ms |`,
  );
}

// Started with an argument: the subscribers' process (see runSubscribers).
if (process.argv[2]) await runSubscribers(JSON.parse(process.argv[2]) as SubscribersInput);
else await main();
