/**
 * @module schedule — Laravel's Scheduler for securely: entries in the `schedule:` config list run
 * a shell line, a securely command, a queue job or a workflow on a cron expression (5 or 6 fields,
 * any time zone) or a Laravel frequency helper, with without_overlapping, on_one_server,
 * run_in_background, environments and hooks. `schedule:work` (and `serve`) run them.
 */
import { defineModule } from "../core/module.ts";
import { scheduleList } from "./commands/list.ts";
import { scheduleRun } from "./commands/run.ts";
import { scheduleTest } from "./commands/test.ts";
import { scheduleWork } from "./commands/work.ts";
import { scheduleConfig } from "./config.ts";
import { scheduleMigrations } from "./migrations.ts";
import { scheduleService } from "./service.ts";

export { parseCron, type CronExpression } from "./cron/parse.ts";
export { isDue, nextRun } from "./cron/next.ts";
export { Scheduler, type RunOutcome } from "./scheduler.ts";
export { createScheduler, scheduleEntries } from "./factory.ts";
export type { PushJob, StartWorkflow } from "./tasks/index.ts";
export type { ScheduleEntry } from "./types.ts";

export const scheduleModule = defineModule({
  name: "schedule",
  description: "cron-style scheduler",
  commands: [scheduleList, scheduleRun, scheduleWork, scheduleTest],
  config: { schedule: scheduleConfig },
  migrations: scheduleMigrations,
  services(app) {
    const entries = app.config.get<unknown[]>("schedule") ?? [];
    return entries.length ? [scheduleService(app)] : [];
  },
});
