-- Hand-written: tasks and dependency rows are inserted only by insertTree, one whole
-- new tree at a time: its task_trees row first, then every task (parents in the same
-- statement), then the dependency rows, which may only name tasks of that tree. The
-- references below therefore hold by construction when a row is written, and their
-- per-row checks were most of those INSERTs: 7.5 of 16.5 ms for 1,000 tasks, and
-- 160 of 240 ms for the 19,896 edges of a 10,000-task fan-out/fan-in tree
-- (auto_explain). Tasks are never re-parented and dependencies never edited. Deleting
-- a tree or a subtree deletes its rows explicitly (deleteSubtree). The relations stay
-- in schema.prisma for queries.
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_tree_id_fkey";
ALTER TABLE "tasks" DROP CONSTRAINT "tasks_parent_id_fkey";
ALTER TABLE "task_dependencies" DROP CONSTRAINT "task_dependencies_task_id_fkey";
ALTER TABLE "task_dependencies" DROP CONSTRAINT "task_dependencies_depends_on_id_fkey";
