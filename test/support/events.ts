/** Task events made up for tests of what carries them (the bus, queues, subscriptions). */
import type { TaskEvent } from "../../src/core/types.js";

/** A `progress` event numbered `seq` of a task in tree "tree". */
export function progressEvent(seq: number, taskId = "task"): TaskEvent {
  return {
    treeId: "tree",
    seq,
    taskId,
    type: "progress",
    status: "in_progress",
    progress: 0,
    attempt: 1,
    message: null,
    data: null,
    at: new Date(0),
  };
}
