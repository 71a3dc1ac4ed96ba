/** Every `queue:*` command (Laravel's names). */
import type { CommandDef } from "../../core/module.ts";
import { batchCancelCommand, batchCommand, batchShowCommand, chainCommand } from "./batch.ts";
import { failedCommand, flushFailedCommand, forgetCommand, pruneFailedCommand, retryCommand } from "./failed.ts";
import { listCommand, monitorCommand, showCommand, statsCommand } from "./inspect.ts";
import { clearCommand, pauseQueueCommand, restartCommand, resumeQueueCommand } from "./manage.ts";
import { pushCommand } from "./push.ts";
import { workCommand } from "./work.ts";

export const queueCommands: CommandDef<any>[] = [
  pushCommand, workCommand, listCommand, showCommand, statsCommand, monitorCommand, failedCommand, retryCommand, forgetCommand,
  flushFailedCommand, pruneFailedCommand, clearCommand, pauseQueueCommand, resumeQueueCommand, restartCommand,
  chainCommand, batchCommand, batchShowCommand, batchCancelCommand,
];
