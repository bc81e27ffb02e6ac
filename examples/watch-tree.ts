/**
 * A script driving apflow through its GraphQL API with the typed documents that
 * GraphQL Code Generator builds from schema.graphql:
 *   1. create a small tree (two system probes, then an aggregate) and run it,
 *   2. follow its events live over graphql-ws,
 *   3. read the finished tree back.
 *
 * Start a server (`npm start`), then: npx tsx examples/watch-tree.ts
 * APFLOW_API_URL points it elsewhere (default http://127.0.0.1:4000/graphql).
 */

import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { FollowTreeSubscription } from "../src/client/gql/graphql.js";
import { graphql } from "../src/client/gql/index.js";

const url = process.env.APFLOW_API_URL ?? "http://127.0.0.1:4000/graphql";

const CreateReport = graphql(`
  mutation CreateReport($tasks: [TaskInput!]!) {
    createTaskTree(input: { tasks: $tasks, execute: true }) {
      id
      name
      status
    }
  }
`);

const FollowTree = graphql(`
  subscription FollowTree($rootId: ID!) {
    taskTreeEvents(rootId: $rootId) {
      id
      type
      status
      task {
        name
      }
    }
  }
`);

const FinishedTree = graphql(`
  query FinishedTree($id: ID!) {
    task(id: $id) {
      name
      status
      rollup {
        total
        completed
        progress
      }
      children {
        name
        status
        result
      }
    }
  }
`);

async function request<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: R; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("\n"));
  return body.data as R;
}

const { createTaskTree: root } = await request(CreateReport, {
  tasks: [
    { name: "report", executor: "aggregate_results_executor", dependencies: [{ id: "cpu" }, { id: "memory" }] },
    { name: "cpu", executor: "system_info_executor", parentId: "report", inputs: { resource: "cpu" } },
    { name: "memory", executor: "system_info_executor", parentId: "report", inputs: { resource: "memory" } },
  ],
});
console.log(`created tree ${root.id}`);

const ws = createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket });
await new Promise<void>((resolve, reject) => {
  ws.subscribe<FollowTreeSubscription>(
    { query: print(FollowTree), variables: { rootId: root.id } },
    {
      next: ({ data }) => {
        if (!data) return;
        const event = data.taskTreeEvents;
        console.log(`${event.id.padEnd(44)} ${event.type.padEnd(10)} ${event.task.name}`);
      },
      error: reject,
      complete: resolve,
    },
  );
});
await ws.dispose();

const { task } = await request(FinishedTree, { id: root.id });
console.log(`${task?.name}: ${task?.status}, ${task?.rollup.completed}/${task?.rollup.total} completed`);
process.exit(task?.status === "COMPLETED" ? 0 : 1);
