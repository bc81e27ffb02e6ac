// appendEvents allocates each tree's seqs, stores the events and sends one NOTIFY in
// a single statement; the cluster relay trusts the payload's [treeId, first, last]
// ranges to match the stored rows, so they are checked against the table here.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { appendEvents, EVENTS_CHANNEL, type NewEvent, parseNotification } from "../../src/storage/sql/append-events.js";
import { type OpenedTestDatabase, openTestDatabase } from "../support/databases.js";

const started = (treeId: string): NewEvent => ({
  treeId,
  taskId: treeId,
  type: "started",
  status: "in_progress",
  progress: 0,
  attempt: 1,
  message: null,
  data: { node: "n1" },
});

describe("appendEvents on PostgreSQL", () => {
  let opened: OpenedTestDatabase;
  let listener: pg.Client;
  const payloads: string[] = [];

  /** One tree whose root task is the tree's id (events reference the task). */
  async function createTrees(ids: readonly string[]): Promise<void> {
    await opened.db.sql.query("INSERT INTO task_trees (id) SELECT unnest($1::text[])", [ids]);
    await opened.db.sql.query(
      "INSERT INTO tasks (id, tree_id, name, executor) SELECT id, id, id, 'noop' FROM unnest($1::text[]) AS v(id)",
      [ids],
    );
  }

  async function nextPayload(): Promise<string> {
    await vi.waitFor(() => expect(payloads.length).toBeGreaterThan(0));
    return payloads.shift()!;
  }

  beforeAll(async () => {
    opened = await openTestDatabase("postgres");
    listener = new pg.Client({ connectionString: opened.db.url });
    await listener.connect();
    listener.on("notification", (n) => payloads.push(n.payload ?? ""));
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
  });

  afterAll(async () => {
    await listener.end();
    await opened.cleanup();
  });

  it("numbers each tree's events gap-free and notifies the stored ranges", async () => {
    await createTrees(["tree-a", "tree-b"]);
    const first = await opened.db.sql.transaction((tx) =>
      appendEvents(tx, [started("tree-b"), started("tree-a"), started("tree-b"), started("gone")]),
    );
    expect(first.map((e) => [e.treeId, e.seq])).toEqual([
      ["tree-b", 1],
      ["tree-a", 1],
      ["tree-b", 2],
    ]);
    expect(parseNotification(await nextPayload())).toEqual([
      { treeId: "tree-a", first: 1, last: 1 },
      { treeId: "tree-b", first: 1, last: 2 },
    ]);

    const second = await opened.db.sql.transaction((tx) => appendEvents(tx, [started("tree-b")]));
    expect(second.map((e) => [e.treeId, e.seq])).toEqual([["tree-b", 3]]);
    expect(parseNotification(await nextPayload())).toEqual([{ treeId: "tree-b", first: 3, last: 3 }]);

    const rows = await opened.db.sql.query<{ tree_id: string; seq: number }>(
      "SELECT tree_id, seq FROM task_events ORDER BY tree_id, seq",
    );
    expect(rows).toEqual([
      { tree_id: "tree-a", seq: 1 },
      { tree_id: "tree-b", seq: 1 },
      { tree_id: "tree-b", seq: 2 },
      { tree_id: "tree-b", seq: 3 },
    ]);
  });

  it('notifies "*" when the ranges would not fit in a NOTIFY payload', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `wide-tree-${String(i).padStart(3, "0")}-${"x".repeat(40)}`);
    await createTrees(ids);
    const stored = await opened.db.sql.transaction((tx) => appendEvents(tx, ids.map(started)));
    expect(stored).toHaveLength(200);
    expect(parseNotification(await nextPayload())).toBe("*");
  });

  it("sends no NOTIFY when no event was stored", async () => {
    await opened.db.sql.transaction((tx) => appendEvents(tx, [started("gone")]));
    await opened.db.sql.transaction((tx) => appendEvents(tx, [started("tree-a")]));
    // Notifications arrive in commit order: the first one seen is the second call's.
    expect(parseNotification(await nextPayload())).toEqual([{ treeId: "tree-a", first: 2, last: 2 }]);
  });
});
