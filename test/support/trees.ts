/** Task-tree shapes shared by tests and benchmarks. */
import type { TaskSpec } from "../../src/core/tree-plan.js";

/**
 * A tree `depth` levels deep where every task has `fanOut` children and depends on
 * all of them (parents aggregate their children). Names encode the path: t, t.0, t.0.1...
 */
export function aggregateTree(fanOut: number, depth: number, executor: string): TaskSpec[] {
  const specs: TaskSpec[] = [];
  const add = (name: string, parent: string | null, level: number) => {
    const children = level < depth - 1 ? Array.from({ length: fanOut }, (_, i) => `${name}.${i}`) : [];
    specs.push({
      name,
      executor,
      ...(parent ? { parentId: parent } : {}),
      dependencies: children.map((id) => ({ id })),
    });
    for (const child of children) add(child, name, level + 1);
  };
  add("t", null, 0);
  return specs;
}
