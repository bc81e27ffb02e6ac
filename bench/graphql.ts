/**
 * GraphQL benchmarks (`npm run bench:graphql`, also run by `npm run bench`):
 *  (a) a nested tree query through the API against a hand-written recursive CTE that
 *      returns the same data, over trees of 1,000 and 10,000 tasks: latency and ratio;
 *  (b) 1,000 graphql-ws subscribers (100 connections) on one running tree of 31
 *      tasks of 500 ms, 3 at a time: delay from the engine publishing a status
 *      change to each subscriber receiving it (p50, p99).
 * Runs on embedded PGlite (the default); BENCH_GRAPHQL_SUBSCRIBERS and
 * BENCH_GRAPHQL_SIZES scale it down for a quick look.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
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
const REPEATS = Number(process.env.BENCH_GRAPHQL_REPEATS ?? 7);

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
  };
  try {
    // (a) nested query against the recursive CTE
    const queries = [];
    for (const size of SIZES) {
      const specs = tree(size);
      const root = await apflow.createTree(specs);
      const api: number[] = [];
      const cte: number[] = [];
      for (let i = 0; i < REPEATS + 1; i++) {
        let t = performance.now();
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: print(TreeQuery), variables: { id: root.id } }),
        });
        const body = (await response.json()) as { errors?: unknown };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        if (i > 0) api.push(performance.now() - t);
        t = performance.now();
        const rows = await apflow.database.sql.query(CTE, [root.id]);
        if (rows.length !== specs.length) throw new Error(`CTE returned ${rows.length} rows, expected ${specs.length}`);
        if (i > 0) cte.push(performance.now() - t);
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
    apflow.subscribe(root.treeId, (event) => {
      if (!published.has(event.seq)) published.set(event.seq, performance.now());
    });
    const delays: number[] = [];
    const clients = Array.from({ length: Math.ceil(SUBSCRIBERS / 10) }, () =>
      createClient({ url: app.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 }),
    );
    let ready = 0;
    const done = Array.from(
      { length: SUBSCRIBERS },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          let first = true;
          clients[i % clients.length]!.subscribe<{ taskTreeEvents: { seq: number } }>(
            { query: Follow, variables: { rootId: root.id } },
            {
              next: ({ data }) => {
                const at = performance.now();
                if (first) {
                  first = false;
                  ready++;
                }
                const sent = published.get(data!.taskTreeEvents.seq);
                if (sent !== undefined) delays.push(at - sent);
              },
              error: reject,
              complete: resolve,
            },
          );
        }),
    );
    // Everyone has replayed the "created" events: go.
    while (ready < SUBSCRIBERS) await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    await apflow.executeTask(root.id);
    await Promise.all(done);
    const sorted = delays.sort((a, b) => a - b);
    results.subscriptions = {
      subscribers: SUBSCRIBERS,
      connections: clients.length,
      eventsPerSubscriber: published.size,
      deliveries: delays.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1),
      wallMs: performance.now() - started,
    };
    await Promise.all(clients.map((c) => c.dispose()));
  } finally {
    await app.stop();
    await apflow.close();
    await rm(dir, { recursive: true, force: true });
  }

  const out = path.join(path.dirname(new URL(import.meta.url).pathname), "results");
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, "graphql-latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("\nGraphQL: nested 4-level tree query (API over HTTP vs one recursive CTE), median of", REPEATS);
  console.log("| tasks | API ms | CTE ms | ratio |\n| ---: | ---: | ---: | ---: |");
  for (const q of results.nestedQuery as { tasks: number; apiMedianMs: number; cteMedianMs: number; ratio: number }[]) {
    console.log(`| ${q.tasks} | ${q.apiMedianMs.toFixed(1)} | ${q.cteMedianMs.toFixed(1)} | ${q.ratio.toFixed(2)}x |`);
  }
  const s = results.subscriptions as Record<string, number>;
  console.log(
    `\nGraphQL: ${s.subscribers} graphql-ws subscribers (${s.connections} connections) on one running tree, ${s.eventsPerSubscriber} events each`,
  );
  console.log(`| deliveries | p50 ms | p99 ms | max ms |\n| ---: | ---: | ---: | ---: |`);
  console.log(`| ${s.deliveries} | ${s.p50Ms?.toFixed(1)} | ${s.p99Ms?.toFixed(1)} | ${s.maxMs?.toFixed(1)} |`);
}

await main();
