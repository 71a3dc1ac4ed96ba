/** Parsing of the flags shared by queue:push and queue:work (Laravel spellings). */
import { parseDuration } from "../core/validation/rules.ts";
import { badFlag } from "./errors.ts";

/** "1,5,10" → [1, 5, 10] seconds; each item a duration ("30s", "2m"). */
export function parseBackoff(v: unknown, flag = "--backoff"): number[] {
  const items = Array.isArray(v) ? v : String(v).split(",");
  const out = items.map((x) => parseDuration(typeof x === "string" ? x.trim() : x));
  if (out.length === 0 || out.some((x) => x === undefined)) throw badFlag(flag, 'seconds, comma separated (e.g. "1,5,10")', v);
  return out as number[];
}

export function parseSeconds(v: unknown, flag: string): number {
  const n = parseDuration(v);
  if (n === undefined) throw badFlag(flag, 'a duration such as 30, "500ms", "30s", "5m", "1h"', v);
  return n;
}

export function parseInteger(v: unknown, flag: string, min = 0): number {
  const s = String(v).trim();
  if (!/^-?\d+$/.test(s) || Number(s) < min) throw badFlag(flag, `an integer ≥ ${min}`, v);
  return Number(s);
}

/** Seconds before attempt n+1 (n = attempts so far, ≥ 1): the n-th value, the last one repeating. */
export function backoffFor(backoff: number[], attempts: number): number {
  if (backoff.length === 0) return 0;
  return backoff[Math.min(attempts, backoff.length) - 1] ?? 0;
}
