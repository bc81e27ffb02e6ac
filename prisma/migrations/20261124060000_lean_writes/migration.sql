-- Hand-written: fewer index entries and foreign-key checks on the hot path (claim,
-- finish, events). Every row a claim or a finish writes pays once per index and per
-- foreign key, so what follows is measured, not cosmetic (see #4's notes).

-- Events are keyed by their resume cursor (tree, seq); the surrogate id, its
-- sequence and its index served nothing. Task.events reads a task's events in seq order.
DROP INDEX "task_events_task_id_id_idx";
DROP INDEX "task_events_tree_id_seq_key";
ALTER TABLE "task_events" DROP CONSTRAINT "task_events_pkey";
ALTER TABLE "task_events" DROP COLUMN "id";
ALTER TABLE "task_events" ADD CONSTRAINT "task_events_pkey" PRIMARY KEY ("tree_id", "seq");
CREATE INDEX "task_events_task_id_seq_idx" ON "task_events" ("task_id", "seq");

-- Events are written only by appendEvents, in the transaction that changed the
-- task, under its tree row's lock, and dropped when the tree row is gone; they are
-- deleted with their tasks explicitly (deleteSubtree). A per-row check against
-- tasks and task_trees cost as much as the insert itself.
ALTER TABLE "task_events" DROP CONSTRAINT "task_events_task_id_fkey";
ALTER TABLE "task_events" DROP CONSTRAINT "task_events_tree_id_fkey";

-- tree_id already references task_trees, whose id is the root's id, and a tree is
-- deleted through its task_trees row; the second reference (to the root task) only
-- doubled the check on every inserted task.
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_root_fkey";

-- Most tasks have no idempotency key and hold no lease: partial indexes keep those
-- rows out, so a claim or a finish adds no entry to either.
DROP INDEX "tasks_idempotency_key_key";
CREATE UNIQUE INDEX "tasks_idempotency_key_key" ON "tasks" ("idempotency_key") WHERE "idempotency_key" IS NOT NULL;
DROP INDEX "tasks_lease_expires_at_idx";
CREATE INDEX "tasks_lease_expires_at_idx" ON "tasks" ("lease_expires_at") WHERE "lease_expires_at" IS NOT NULL;
