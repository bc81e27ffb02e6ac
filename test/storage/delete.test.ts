/**
 * Deleting a pending tree or subtree removes every row of it. No foreign key cascades
 * between tasks, dependency rows, events and the tree row (their checks cost more
 * than the inserts: see the tree_insert_checks migration), so deleteSubtree clears
 * each table itself; this checks the tables, not just what the API shows.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SqlTaskStore } from "../../src/storage/sql-task-store.js";
import { type OpenedTestDatabase, openTestDatabase } from "../support/databases.js";
import { type Harness, startHarness } from "../support/harness.js";

describe.each(["pglite", "postgres"] as const)("deleting on %s", (kind) => {
  let opened: OpenedTestDatabase;
  let h: Harness;

  afterEach(async () => {
    await h.stop();
    await opened.cleanup();
  });

  /** Rows of each table that belong to the tree, found by their ids. */
  async function rows(treeId: string, ids: string[]) {
    const [counts] = await opened.db.sql.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM task_trees WHERE id = $1) AS trees,
              (SELECT count(*)::int FROM tasks WHERE id = ANY($2::text[])) AS tasks,
              (SELECT count(*)::int FROM task_dependencies
                WHERE task_id = ANY($2::text[]) OR depends_on_id = ANY($2::text[])) AS dependencies,
              (SELECT count(*)::int FROM task_events WHERE task_id = ANY($2::text[])) AS events`,
      [treeId, ids],
    );
    return counts;
  }

  it("removes a subtree's tasks, dependency rows and events, and the rest with the root", async () => {
    opened = await openTestDatabase(kind);
    h = await startHarness(new SqlTaskStore(opened.db.sql));
    const root = await h.service.createTree([
      { id: "root", name: "root", executor: "noop", dependencies: ["a", "b"] },
      { id: "a", name: "a", executor: "noop", parentId: "root" },
      { id: "b", name: "b", executor: "noop", parentId: "root", dependencies: ["a"] },
      { id: "b1", name: "b1", executor: "noop", parentId: "b", dependencies: ["a"] },
      { id: "c", name: "c", executor: "noop", parentId: "root", dependencies: [{ id: "a", required: false }] },
    ]);
    expect(await rows(root.treeId, ["root", "a", "b", "b1", "c"])).toEqual({
      trees: 1,
      tasks: 5,
      dependencies: 5,
      events: 5,
    });

    expect(await h.service.delete("c")).toBe(true);
    expect(await rows(root.treeId, ["c"])).toEqual({ trees: 1, tasks: 0, dependencies: 0, events: 0 });
    expect(await rows(root.treeId, ["root", "a", "b", "b1"])).toMatchObject({ tasks: 4, dependencies: 4 });

    expect(await h.service.delete("root")).toBe(true);
    expect(await rows(root.treeId, ["root", "a", "b", "b1"])).toEqual({
      trees: 0,
      tasks: 0,
      dependencies: 0,
      events: 0,
    });
  });
});
