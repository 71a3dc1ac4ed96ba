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

/** A Scheduler for the App's config (or for `entries`, when a reload validated new ones). */
export function createScheduler(app: App, opts: Partial<SchedulerOptions> & { entries?: ScheduleEntry[] } = {}): Scheduler {
  const entries = opts.entries ?? scheduleEntries(app);
  const locks = opts.locks ?? lockStore(app);
  const needsShared = entries.filter((e) => e.onOneServer || e.withoutOverlapping).map((e) => e.name);
  if (needsShared.length && !locks.store.shared) {
    app.log.warn(`schedule: ${needsShared.join(", ")} lock in the ${locks.store.driver} cache store, which only this process sees; set cache.store to sqlite or redis`);
  }
  return new Scheduler(app, entries, {
    locks,
    history: opts.history ?? new RunHistory(app.store()),
    ...opts,
  });
}
