/** Wires a store into an engine and a task service with the test executors. */
import { systemClock } from "../../src/core/clock.js";
import { Engine, type EngineOptions } from "../../src/core/engine.js";
import { LocalEventBus } from "../../src/core/event-bus.js";
import { ExecutorRegistry } from "../../src/core/executor-registry.js";
import type { TaskStore } from "../../src/core/ports.js";
import { TaskService } from "../../src/core/task-service.js";
import type { TaskEvent } from "../../src/core/types.js";
import { aggregateResultsExecutor } from "../../src/executors/aggregate-results.js";
import { newProbe, type Probe, testExecutors } from "./test-executors.js";

export interface Harness {
  store: TaskStore;
  bus: LocalEventBus;
  registry: ExecutorRegistry;
  engine: Engine;
  service: TaskService;
  probe: Probe;
  /** Every event published on the bus, in publish order. */
  published: TaskEvent[];
  stop(): Promise<void>;
}

export async function startHarness(store: TaskStore, options: Partial<EngineOptions> = {}): Promise<Harness> {
  const probe = newProbe();
  const bus = new LocalEventBus();
  const published: TaskEvent[] = [];
  bus.subscribe("*", (event) => published.push(event));
  const registry = new ExecutorRegistry([...testExecutors(probe), aggregateResultsExecutor]);
  const engine = new Engine({
    store,
    executors: registry,
    bus,
    clock: systemClock,
    nodeId: "test-node",
    maxParallel: 4,
    leaseMs: 30_000,
    pollIntervalMs: 200,
    progressIntervalMs: 10,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    ...options,
  });
  const service = new TaskService(store, registry, bus, engine);
  await engine.start();
  return {
    store,
    bus,
    registry,
    engine,
    service,
    probe,
    published,
    async stop() {
      await engine.stop(0);
    },
  };
}

/** Polls `check` until it returns true (for conditions without an event), failing after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
