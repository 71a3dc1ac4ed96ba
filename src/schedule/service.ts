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
import { createScheduler } from "./factory.ts";
import type { Scheduler } from "./scheduler.ts";

export function scheduleService(app: App, make: (app: App) => Scheduler = createScheduler): Service {
  let scheduler: Scheduler | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let lastChecked = 0;
  let ticks = 0;
  let running: Promise<unknown> = Promise.resolve();

  const wake = () => {
    if (stopped || !scheduler) return;
    const to = scheduler.clock.now();
    const from = lastChecked;
    lastChecked = to;
    running = scheduler
      .tick(from, to)
      .then(() => ticks++)
      .catch((err) => app.log.error(`schedule tick failed: ${(err as Error).message}`))
      .finally(arm);
  };

  const arm = () => {
    if (stopped || !scheduler) return;
    const now = scheduler.clock.now();
    const perSecond = scheduler.entries.some((e) => e.cron.hasSeconds);
    const unit = perSecond ? 1000 : 60_000;
    timer = setTimeout(wake, unit - (now % unit) + 5);
  };

  return {
    name: "schedule",
    kind: "background",
    async start() {
      scheduler = make(app);
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
        await scheduler?.drain(opts.timeoutMs);
      }
      await closeCache(app);
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
