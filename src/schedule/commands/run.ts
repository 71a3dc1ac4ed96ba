/**
 * schedule:run — one tick, for a system crontab (`* * * * * securely schedule:run`). Entries with
 * a seconds field keep ticking until the minute ends, as Laravel's sub-minute tasks do. --at runs
 * the tick of another minute (catching up a missed one); claims keep every tick to one run.
 */
import { defineCommand } from "../../core/module.ts";
import { UsageError } from "../../core/errors.ts";
import { closeCache } from "../../cache/index.ts";
import { createScheduler } from "../factory.ts";
import type { RunOutcome } from "../scheduler.ts";

export function renderOutcomes(outcomes: RunOutcome[]): string {
  if (outcomes.length === 0) return "nothing due";
  return outcomes
    .map((o) => {
      const detail = o.status === "skipped" ? `: ${o.reason}` : o.exit_code !== undefined ? ` (exit ${o.exit_code}, ${o.duration_ms} ms)` : "";
      return `${o.name}  ${o.status}${detail}`;
    })
    .join("\n");
}

export const scheduleRun = defineCommand({
  name: "schedule:run",
  description: "Run the entries due now (call it every minute from cron), or at --at TIME",
  args: {
    at: { type: "string", description: 'Run the tick of this minute instead of now (ISO time, e.g. "2026-01-01T02:00:00Z")' },
  },
  async run({ app, args }) {
    let at = app.clock.now();
    if (args.at !== undefined) {
      at = Date.parse(String(args.at));
      if (Number.isNaN(at)) throw new UsageError(`schedule:run: --at '${args.at}' is not a time`, 'write an ISO time such as "2026-01-01T02:00:00Z"');
    }
    const scheduler = createScheduler(app);
    try {
      const minuteStart = at - (at % 60_000);
      const outcomes = await scheduler.tick(minuteStart - 1, args.at !== undefined ? minuteStart : at);
      // sub-minute entries: keep ticking each second until this minute ends
      if (args.at === undefined && scheduler.entries.some((e) => e.cron.hasSeconds)) {
        let last = at;
        while (scheduler.clock.now() < minuteStart + 60_000) {
          await Bun.sleep(1000 - (scheduler.clock.now() % 1000) + 5);
          const now = Math.min(scheduler.clock.now(), minuteStart + 59_999);
          const more = await scheduler.tick(last, now);
          outcomes.push(...more.filter((o) => o.status !== "already-ran"));
          last = now;
          if (now >= minuteStart + 59_999) break;
        }
      }
      await scheduler.drain(24 * 3600_000);
      app.print(outcomes, renderOutcomes);
    } finally {
      await closeCache(app);
    }
  },
});
