-- A task's dependencies as it was created with them, `[{"id", "required"}, ...]` in
-- their order, on the task row itself. Dependencies never change after insert, so
-- this copy of the task_dependencies rows (which the engine keeps using for
-- readiness and dependents) cannot drift: both are written by the same insert.
-- GraphQL reads it with the task, so `dependencies` costs no statement of its own
-- (a 4-level tree query went from 8 statements to 4).
ALTER TABLE "tasks" ADD COLUMN "dependency_list" JSONB NOT NULL DEFAULT '[]';

UPDATE "tasks" t
   SET "dependency_list" = d.list
  FROM (SELECT "task_id",
               jsonb_agg(jsonb_build_object('id', "depends_on_id", 'required', "required") ORDER BY "position") AS list
          FROM "task_dependencies"
         GROUP BY "task_id") d
 WHERE t."id" = d."task_id";
