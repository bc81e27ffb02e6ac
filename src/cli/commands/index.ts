/** Every `apflow` command, in the order `apflow help` lists them. */
import type { Command } from "../command.js";
import {
  configGetCommand,
  configInitCommand,
  configListCommand,
  configPathCommand,
  configSetCommand,
  configUnsetCommand,
} from "./config.js";
import { dbMigrateCommand } from "./db.js";
import { executorsListCommand } from "./executors.js";
import { runCommand } from "./run.js";
import {
  scheduleAddCommand,
  scheduleDisableCommand,
  scheduleEnableCommand,
  scheduleExportCommand,
  scheduleListCommand,
  scheduleRemoveCommand,
  scheduleTriggerCommand,
} from "./schedule.js";
import { serveCommand } from "./serve.js";
import { tasksCancelCommand, tasksCopyCommand, tasksDeleteCommand } from "./tasks-change.js";
import { tasksGetCommand, tasksListCommand, tasksTreeCommand } from "./tasks-read.js";
import { tasksWatchCommand } from "./tasks-watch.js";
import { versionCommand } from "./version.js";

export const COMMANDS: readonly Command[] = [
  serveCommand,
  runCommand,
  tasksListCommand,
  tasksGetCommand,
  tasksTreeCommand,
  tasksWatchCommand,
  tasksCancelCommand,
  tasksCopyCommand,
  tasksDeleteCommand,
  executorsListCommand,
  configListCommand,
  configGetCommand,
  configSetCommand,
  configUnsetCommand,
  configPathCommand,
  configInitCommand,
  scheduleAddCommand,
  scheduleListCommand,
  scheduleEnableCommand,
  scheduleDisableCommand,
  scheduleRemoveCommand,
  scheduleTriggerCommand,
  scheduleExportCommand,
  dbMigrateCommand,
  versionCommand,
];
