/**
 * When a cron expression is due, in a time zone. `nextRun` walks forward from an instant by
 * whole units — to the next local day, hour, minute or second — re-reading the wall clock after
 * each jump, so DST transitions are handled by the zone data rather than by arithmetic: a local
 * time skipped by spring-forward never runs, one repeated by fall-back runs at each occurrence.
 */
import type { CronExpression } from "./parse.ts";
import { localParts, type LocalParts } from "./timezone.ts";

function dayMatches(e: CronExpression, p: LocalParts): boolean {
  const dom = e.daysOfMonth.has(p.day) || (e.lastDayOfMonth && p.day === p.daysInMonth);
  const dow =
    e.daysOfWeek.has(p.weekday) ||
    (e.lastWeekdays.has(p.weekday) && p.day + 7 > p.daysInMonth) ||
    e.nthWeekdays.some(([wd, nth]) => wd === p.weekday && Math.ceil(p.day / 7) === nth);
  if (e.domAny && e.dowAny) return true;
  if (e.domAny) return dow;
  if (e.dowAny) return dom;
  return dom || dow; // both restricted: Vixie cron (and Laravel's cron-expression) run on either
}

/** Whether the expression is due at `ms` (seconds are ignored for 5-field expressions). */
export function isDue(e: CronExpression, ms: number, tz: string): boolean {
  const p = localParts(ms, tz);
  return e.months.has(p.month) && dayMatches(e, p) && e.hours.has(p.hour) && e.minutes.has(p.minute) && (!e.hasSeconds || e.seconds.has(p.second));
}

/** The first due instant strictly after `afterMs` within `horizonDays` (undefined if none, e.g. Feb 30). */
export function nextRun(e: CronExpression, afterMs: number, tz: string, horizonDays = 366 * 5): number | undefined {
  const step = e.hasSeconds ? 1000 : 60_000;
  let t = Math.floor(afterMs / step) * step + step;
  const end = afterMs + horizonDays * 86_400_000;
  while (t <= end) {
    const p = localParts(t, tz);
    const intoDay = (p.hour * 3600 + p.minute * 60 + p.second) * 1000;
    if (!e.months.has(p.month) || !dayMatches(e, p)) {
      t += 86_400_000 - intoDay; // next local midnight (or 23:00/01:00 across DST: the loop re-reads)
      continue;
    }
    if (!e.hours.has(p.hour)) {
      t += 3_600_000 - (p.minute * 60 + p.second) * 1000;
      continue;
    }
    if (!e.minutes.has(p.minute)) {
      t += 60_000 - p.second * 1000;
      continue;
    }
    if (e.hasSeconds && !e.seconds.has(p.second)) {
      t += 1000;
      continue;
    }
    return t;
  }
  return undefined;
}

/** The latest due instant in (fromMs, toMs], or undefined: what a late or restarted tick still owes. */
export function lastDueIn(e: CronExpression, fromMs: number, toMs: number, tz: string): number | undefined {
  let latest: number | undefined;
  let t = nextRun(e, fromMs - 1, tz, Math.max(1, Math.ceil((toMs - fromMs) / 86_400_000) + 1));
  while (t !== undefined && t <= toMs) {
    if (t > fromMs) latest = t;
    t = nextRun(e, t, tz, 2);
  }
  return latest;
}
