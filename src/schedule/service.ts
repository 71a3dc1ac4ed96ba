/**
 * The "schedule" background service (`schedule:work`, and `serve` when entries exist): wake at
 * each minute boundary (each second when an entry has a seconds field) and run what is owed since
 * the last wake. On start it owes the current minute, so a tick missed during a quick restart runs
 * once — and one that already ran is skipped by its claim in schedule_runs.
 */
import type { App } from "../core/app.ts";
import type { Service } from "../core/server/service.ts";
import { closeCache } from "../cache/index.ts";
import { nextRun } from "./cron/next.ts";
import { createScheduler, scheduleEntries } from "./factory.ts";
import type { Scheduler } from "./scheduler.ts";
import type { ScheduleEntry } from "./types.ts";

type Make = (app: App, opts: { entries?: ScheduleEntry[] }) => Scheduler;

export function scheduleService(app: App, make: Make = createScheduler): Service {
  let scheduler: Scheduler | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let lastChecked = 0;
  let ticks = 0;
  let running: Promise<unknown> = Promise.resolve();
  let ticking = false;
  /** Schedulers replaced by a reload whose background runs may still be going. */
  let retired: Scheduler[] = [];

  const wake = () => {
    if (stopped || !scheduler) return;
    const to = scheduler.clock.now();
    const from = lastChecked;
    lastChecked = to;
    ticking = true;
    running = scheduler
      .tick(from, to)
      .then(() => ticks++)
      .catch((err) => app.log.error(`schedule tick failed: ${(err as Error).message}`))
      .finally(() => {
        ticking = false;
        arm();
      });
  };

  const arm = () => {
    if (stopped || !scheduler) return;
    if (timer) clearTimeout(timer);
    const now = scheduler.clock.now();
    const perSecond = scheduler.entries.some((e) => e.cron.hasSeconds);
    const unit = perSecond ? 1000 : 60_000;
    timer = setTimeout(wake, unit - (now % unit) + 5);
  };

  return {
    name: "schedule",
    kind: "background",
    // stop before the cache prune service closes the lock store our background runs still use
    dependsOn: ["cache"],
    async start() {
      scheduler = make(app, {});
      const now = scheduler.clock.now();
      lastChecked = now - (now % 60_000) - 1; // owe this minute's ticks (claims stop repeats)
      wake();
      await running;
    },
    async stop(opts) {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (opts.graceful) {
        await running;
        await Promise.all([scheduler, ...retired].map((s) => s?.drain(opts.timeoutMs)));
      }
      await closeCache(app);
    },
    /** SIGHUP: swap in the new entries; runs in flight finish under the old ones. */
    async reload(next) {
      const entries = scheduleEntries(next);
      retired = retired.filter((s) => s.inFlight.size > 0);
      if (scheduler) retired.push(scheduler);
      scheduler = make(app, { entries });
      if (!ticking) arm(); // the wake unit may have changed (seconds-level entries added or removed)
      return { applied: [`${entries.length} entries`], needsRestart: [] };
    },
    status() {
      const now = scheduler?.clock.now() ?? Date.now();
      return {
        ready: Boolean(scheduler),
        ticks,
        running: scheduler?.inFlight.size ?? 0,
        next: Object.fromEntries((scheduler?.entries ?? []).map((e) => [e.name, nextRun(e.cron, now, e.timezone) ?? null])),
      };
    },
  };
}
