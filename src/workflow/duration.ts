/** Durations in workflow code are milliseconds or strings ("500ms", "30s", "5m", "1h", "1d", "2w"). */
import { SecurelyError } from "../core/errors.ts";
import type { Duration } from "./types.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function toMs(d: Duration, what = "duration"): number {
  if (typeof d === "number") {
    if (Number.isFinite(d) && d >= 0) return d;
  } else if (typeof d === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(d);
    if (m) return Math.round(Number(m[1]) * UNITS[m[2] ?? "ms"]!);
  }
  throw new SecurelyError(`invalid ${what} ${JSON.stringify(d)}`, { hint: 'use milliseconds or a string such as "500ms", "30s", "5m", "1h", "1d"' });
}

/** "1h 5m" style for status output. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ""}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)}m` : ""}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)}h` : ""}`;
}
