/**
 * The task tree the crash tests run: 200 `slow_append` tasks under one root, with
 * chains (each step waits for the previous one), fan-ins (a task waits for the ends
 * and middles of three chains) and independent tasks. The root waits for every
 * fan-in and every independent task, so it runs last and the tree's critical path is
 * nine tasks long while up to 200 / 9 tasks are ready at once.
 */
import type { TaskSpec } from "../../src/core/tree-plan.js";

export const ROOT_ID = "crash-root";
export const EXECUTOR_ID = "slow_append";

const CHAINS = 24;
const STEPS = 7;
const FAN_INS = 8;
const SINGLES = 23;

const step = (chain: number, s: number) => `c${chain}s${s}`;

export function crashTree(): TaskSpec[] {
  const specs: TaskSpec[] = [];
  const child = (id: string, dependencies: string[]): TaskSpec => ({
    id,
    name: id,
    executor: EXECUTOR_ID,
    parentId: ROOT_ID,
    dependencies,
  });
  for (let c = 0; c < CHAINS; c++) {
    for (let s = 0; s < STEPS; s++) specs.push(child(step(c, s), s === 0 ? [] : [step(c, s - 1)]));
  }
  const fanIns: string[] = [];
  for (let g = 0; g < FAN_INS; g++) {
    const id = `f${g}`;
    fanIns.push(id);
    const chains = [3 * g, 3 * g + 1, 3 * g + 2];
    specs.push(child(id, [...chains.map((c) => step(c, STEPS - 1)), step(3 * g, 3)]));
  }
  const singles: string[] = [];
  for (let k = 0; k < SINGLES; k++) {
    const id = `x${k}`;
    singles.push(id);
    specs.push(child(id, []));
  }
  return [
    { id: ROOT_ID, name: ROOT_ID, executor: EXECUTOR_ID, parentId: null, dependencies: [...fanIns, ...singles] },
    ...specs,
  ];
}

export const TASK_IDS: readonly string[] = crashTree().map((spec) => spec.id!);
