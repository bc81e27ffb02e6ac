/**
 * A nested tree query costs O(depth) SQL statements, not O(tasks): every statement
 * Prisma sends while serving the query is recorded, for a 4-level tree of 1,111
 * tasks with dependencies and dependents selected, and compared with the same
 * query over a tree of the same depth but 15 tasks.
 */
import { describe, expect, it } from "vitest";
import { graphql } from "../../src/client/gql/index.js";
import type { TaskSpec } from "../../src/core/tree-plan.js";
import { useTestServer } from "../support/server.js";
import { aggregateTree } from "../support/trees.js";

const NestedTree = graphql(`
  query NestedTree($id: ID!) {
    task(id: $id) {
      ...TreeLevel
      children {
        ...TreeLevel
        children {
          ...TreeLevel
          children {
            ...TreeLevel
          }
        }
      }
    }
  }
  fragment TreeLevel on Task {
    id
    name
    status
    progress
    dependencies {
      required
      task {
        id
        name
      }
    }
    dependents {
      id
      name
    }
    rollup {
      total
      progress
    }
  }
`);

const TreeWithDependencyIds = graphql(`
  query TreeWithDependencyIds($id: ID!) {
    task(id: $id) {
      ...DependencyIds
      children {
        ...DependencyIds
        children {
          ...DependencyIds
          children {
            ...DependencyIds
          }
        }
      }
    }
  }
  fragment DependencyIds on Task {
    id
    dependencies {
      required
      task {
        id
      }
    }
  }
`);

describe.each(["pglite", "postgres"] as const)("nested tree query cost on %s", (kind) => {
  let recording: string[] | null = null;
  const s = useTestServer(kind, { apflow: { onQuery: (sql) => recording?.push(sql), runTasks: false } });

  async function statementsFor(
    specs: TaskSpec[],
    query: typeof NestedTree | typeof TreeWithDependencyIds = NestedTree,
  ): Promise<{ statements: string[]; tasks: number }> {
    const root = await s.apflow.createTree(specs);
    recording = [];
    const result = await s.request(query, { id: root.id });
    const statements = recording;
    recording = null;
    expect(result.errors).toBeUndefined();
    let tasks = 0;
    const count = (node: { children?: unknown[] }) => {
      tasks++;
      for (const child of (node.children ?? []) as { children?: unknown[] }[]) count(child);
    };
    count(result.data!.task!);
    return { statements, tasks };
  }

  it("is bounded by the depth, whatever the number of tasks", { timeout: 120_000 }, async () => {
    const big = await statementsFor(aggregateTree(10, 4, "aggregate_results_executor"));
    const small = await statementsFor(aggregateTree(2, 4, "aggregate_results_executor"));
    expect(big.tasks).toBe(1_111);
    expect(small.tasks).toBe(15);
    // Per level: the tasks (their dependencies come with them), the tasks depended
    // on (their names are asked for), their dependents, and one roll-up query: a
    // handful of statements, times 4 levels.
    expect(big.statements.length).toBeGreaterThanOrEqual(4);
    expect(big.statements.length).toBeLessThanOrEqual(6 * 4);
    expect(big.statements.length).toBe(small.statements.length);
    console.info(`[query cost] ${kind}: ${big.statements.length} statements for ${big.tasks} tasks, 4 levels`);
  });

  it("reads dependencies with their task: one statement per level when only their ids are asked for", async () => {
    const { statements, tasks } = await statementsFor(
      aggregateTree(10, 4, "aggregate_results_executor"),
      TreeWithDependencyIds,
    );
    expect(tasks).toBe(1_111);
    expect(statements).toHaveLength(4);
    expect(statements.filter((sql) => sql.includes("task_dependencies"))).toEqual([]);
  });
});
