-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "schedule_missed_runs" TEXT;

-- CreateTable
CREATE TABLE "webhook_replays" (
    "signature_hash" TEXT NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_replays_pkey" PRIMARY KEY ("signature_hash")
);

-- CreateIndex
CREATE INDEX "webhook_replays_seen_at_idx" ON "webhook_replays"("seen_at");

-- Hand-written below: what Prisma's schema language cannot express.

-- The leader's due-schedule claim (src/storage/sql/schedules.ts) reads only enabled
-- schedules, in due order; a disabled or finished schedule has no next_run_at.
CREATE INDEX "tasks_schedule_due_idx" ON "tasks" ("next_run_at", "id") WHERE "schedule_enabled";

-- A schedule runs a whole tree, so only a root carries one; type and expression come together.
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_schedule_root_check" CHECK ("schedule_type" IS NULL OR "parent_id" IS NULL);
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_schedule_complete_check"
  CHECK (("schedule_type" IS NULL) = ("schedule_expr" IS NULL));
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_schedule_type_check"
  CHECK ("schedule_type" IN ('once', 'interval', 'cron', 'daily', 'weekly', 'monthly'));
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_schedule_missed_runs_check"
  CHECK ("schedule_missed_runs" IN ('run_once', 'skip'));
