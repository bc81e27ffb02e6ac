/**
 * The task shapes the benchmark creates. Each scenario returns the trees to create
 * as apflow's flat task arrays (what `createTree` takes), and a sentence stating
 * the exact shape, printed with the results so a figure is never read without it.
 * Every task uses the `noop` executor, so what is measured is apflow itself.
 */
import type { TaskSpec } from "../src/index.js";

export interface Scenario {
  id: string;
  /** The exact shape for `n` tasks. */
  describe(n: number): string;
  /** The trees, each a flat task array; together they hold exactly `n` tasks. */
  build(n: number): TaskSpec[][];
}

const EXECUTOR = "noop";

/**
 * Independent tasks the way a user submits a batch: one request, one tree, a root
 * with n - 1 children. Parent/child does not order execution, so all n tasks are
 * ready at once.
 */
const independent: Scenario = {
  id: "independent",
  describe: (n) => `1 tree: root + ${fmt(n - 1)} children, no dependencies (all ${fmt(n)} ready at once)`,
  build(n) {
    const tasks: TaskSpec[] = [{ name: "batch", executor: EXECUTOR }];
    for (let i = 1; i < n; i++) tasks.push({ name: `task-${i}`, executor: EXECUTOR, parentId: "batch" });
    return [tasks];
  },
};

/**
 * Fan-out then fan-in, the shape of a map/reduce job:
 *   start -> G groups of workers (each worker depends on start)
 *         -> G group aggregators (each depends on its workers)
 *         -> finish, the root (depends on the G aggregators).
 * Finishing `start` releases every worker in one transaction (the widest fan-out);
 * each aggregator and the root load all their dependencies' results when claimed.
 */
export function fanOutIn(groups: number): Scenario {
  const shape = (n: number) => {
    const g = Math.max(1, Math.min(groups, Math.floor((n - 2) / 2)));
    const workers = n - 2 - g;
    return { g, workers, per: Math.floor(workers / g), extra: workers % g };
  };
  return {
    id: "fan-out-in",
    describe(n) {
      const { g, workers, per, extra } = shape(n);
      const size = extra === 0 ? `${per}` : `${per}-${per + 1}`;
      return (
        `1 tree: start -> ${fmt(workers)} workers in ${g} groups of ${size} (each depends on start) -> ` +
        `${g} group aggregators (each depends on its group) -> root (depends on the ${g} aggregators); ` +
        `${fmt(workers + g + 1)} dependency edges, 4 levels`
      );
    },
    build(n) {
      const { g, per, extra } = shape(n);
      const root: TaskSpec = { name: "finish", executor: EXECUTOR, dependencies: [] };
      const tasks: TaskSpec[] = [root, { name: "start", executor: EXECUTOR, parentId: "finish" }];
      for (let group = 0; group < g; group++) {
        const name = `group-${group}`;
        const aggregator: TaskSpec = { name, executor: EXECUTOR, parentId: "finish", dependencies: [] };
        tasks.push(aggregator);
        root.dependencies!.push(name);
        const size = per + (group < extra ? 1 : 0);
        for (let i = 0; i < size; i++) {
          const worker = `worker-${group}-${i}`;
          tasks.push({ name: worker, executor: EXECUTOR, parentId: name, dependencies: ["start"] });
          aggregator.dependencies!.push(worker);
        }
      }
      return [tasks];
    },
  };
}

/**
 * Independent tasks the way a job queue is used: every task is its own one-task
 * tree, created by its own request. This is the graphile-worker comparison
 * (one add_job per job), and it spreads event sequences over n tree rows.
 */
const jobQueue: Scenario = {
  id: "job-queue",
  describe: (n) => `${fmt(n)} trees of 1 task each, one createTree request per task, no dependencies`,
  build(n) {
    return Array.from({ length: n }, (_, i) => [{ name: `job-${i}`, executor: EXECUTOR }]);
  },
};

export function scenarios(fanOut: number): Scenario[] {
  return [independent, fanOutIn(fanOut), jobQueue];
}

export function fmt(n: number): string {
  return n.toLocaleString("en-US");
}
