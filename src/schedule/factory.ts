/** Build the Scheduler for an App from its config: entries, run history, and the lock store. */
import type { App } from "../core/app.ts";
import { cache, type Repository } from "../cache/index.ts";
import { resolveEntries } from "./config.ts";
import { RunHistory } from "./history.ts";
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";
import type { ScheduleEntry } from "./types.ts";

export function scheduleEntries(app: App): ScheduleEntry[] {
  return resolveEntries(app.config.get<Record<string, any>[]>("schedule"));
}

/** The cache store locks live in: the default one, unless it is `null` (which holds no locks). */
export function lockStore(app: App): Repository {
  const repo = cache(app);
  return repo.store.driver === "null" ? cache(app, "sqlite") : repo;
}

export function createScheduler(app: App, opts: Partial<SchedulerOptions> = {}): Scheduler {
  return new Scheduler(app, scheduleEntries(app), {
    locks: opts.locks ?? lockStore(app),
    history: opts.history ?? new RunHistory(app.store()),
    ...opts,
  });
}
