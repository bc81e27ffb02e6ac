/** A real apflow server on a free port, over PGlite in memory or a fresh PostgreSQL database. */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type ExecutionResult, print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll } from "vitest";
import WebSocket from "ws";
import { type Apflow, type ApflowOptions, createApflow } from "../../src/apflow.js";
import { type App, type AppOptions, buildApp } from "../../src/server/app.js";
import { MEMORY_DATA_DIR } from "../../src/storage/database.js";
import { createTestDatabase } from "./databases.js";

export interface TestServer {
  apflow: Apflow;
  app: App;
  url: string;
  /** POSTs a typed document over real HTTP. */
  request<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<ExecutionResult<R>>;
  /** A graphql-ws client on the server (closed with the server). */
  wsClient(options?: { lazy?: boolean }): Client;
  close(): Promise<void>;
}

export async function startTestServer(
  kind: "pglite" | "postgres" = "pglite",
  options: { apflow?: ApflowOptions; app?: Partial<AppOptions> } = {},
): Promise<TestServer> {
  const database = kind === "postgres" ? await createTestDatabase() : null;
  const apflow = await createApflow({
    ...(database ? { databaseUrl: database.url } : { databaseUrl: undefined, dataDir: MEMORY_DATA_DIR }),
    logLevel: (process.env.TEST_LOG_LEVEL as "error" | undefined) ?? "silent",
    pollIntervalMs: 200,
    ...options.apflow,
  });
  const app = buildApp({ apflow, port: 0, ...options.app });
  const url = await app.start();
  const clients: Client[] = [];
  return {
    apflow,
    app,
    url,
    async request(document, variables) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ query: print(document), variables }),
      });
      return (await response.json()) as ExecutionResult<never>;
    },
    wsClient(clientOptions = {}) {
      const client = createClient({
        url: app.wsUrl,
        webSocketImpl: WebSocket,
        lazy: clientOptions.lazy ?? true,
        retryAttempts: 0,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
      await apflow.close();
      await database?.drop();
    },
  };
}

/**
 * The server of a test file or describe block: started before its first test, closed
 * after its last. Its fields are there once it has started.
 */
export function useTestServer(...args: Parameters<typeof startTestServer>): TestServer {
  const server = {} as TestServer;
  beforeAll(async () => {
    Object.assign(server, await startTestServer(...args));
  });
  // No close when the start failed: that failure is the one to report.
  afterAll(() => server.close?.());
  return server;
}

export interface Subscription<T> {
  /** Values received so far. */
  values: T[];
  /** Resolves with every value when the subscription completes; rejects on error. */
  done: Promise<T[]>;
  /** Resolves once `values.length >= n`. */
  received(n: number): Promise<void>;
}

/** Starts a subscription and records its values. */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown>): Subscription<T> {
  const values: T[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const done = new Promise<T[]>((resolve, reject) => {
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) {
            reject(new Error(JSON.stringify(value.errors)));
            return;
          }
          values.push(value.data as T);
          for (const w of waiters.filter((w) => values.length >= w.n)) w.resolve();
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(values),
      },
    );
  });
  return {
    values,
    done,
    received: (n) =>
      values.length >= n
        ? Promise.resolve()
        : Promise.race([new Promise<void>((resolve) => waiters.push({ n, resolve })), done.then(() => {})]),
  };
}

/** Collects every value of a subscription until it completes (or fails). */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<T[]> {
  return subscribe<T>(client, query, variables).done;
}
