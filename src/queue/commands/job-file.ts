/**
 * Jobs from a file for `--file jobs.ndjson`, `queue:chain` and `queue:batch`: one JSON object per
 * line ({"handler": "mail", "payload": {…}, "queue": "high", "delay": "30s", …}). A bad line is
 * reported with its file and line number and nothing is pushed.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "../../core/errors.ts";
import { parseBackoff, parseSeconds } from "../options.ts";
import type { JobSpec } from "../types.ts";

const KEYS: Record<string, keyof JobSpec> = {
  handler: "handler", payload: "payload", queue: "queue", delay: "delay", tries: "tries", backoff: "backoff", timeout: "timeout",
  priority: "priority", unique_key: "uniqueKey", uniqueKey: "uniqueKey", unique_for: "uniqueFor", uniqueFor: "uniqueFor",
};

/** One line's object → JobSpec; `where` names file:line in errors. */
export function jobFromObject(o: unknown, where: string): JobSpec {
  if (!o || typeof o !== "object" || Array.isArray(o)) throw new UsageError(`${where}: expected a JSON object with a "handler"`, "nothing was pushed");
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const key = KEYS[k];
    if (!key) throw new UsageError(`${where}: unknown key '${k}'`, `use ${Object.keys(KEYS).filter((x) => !/[A-Z]/.test(x)).join(", ")}; nothing was pushed`);
    out[key] = v;
  }
  if (typeof out.delay === "string") out.delay = parseSeconds(out.delay, `${where} delay`);
  if (typeof out.timeout === "string") out.timeout = parseSeconds(out.timeout, `${where} timeout`);
  if (typeof out.uniqueFor === "string") out.uniqueFor = parseSeconds(out.uniqueFor, `${where} unique_for`);
  if (out.backoff !== undefined && !Array.isArray(out.backoff)) out.backoff = parseBackoff(out.backoff, `${where} backoff`);
  return out as unknown as JobSpec;
}

export function readJobFile(path: string): { spec: JobSpec; where: string }[] {
  let text: string;
  try {
    text = path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`--file ${path}: ${(err as Error).message}`);
  }
  const out: { spec: JobSpec; where: string }[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (err) {
      throw new UsageError(`${where}: not valid JSON (${(err as Error).message})`, "nothing was pushed");
    }
    out.push({ spec: jobFromObject(o, where), where });
  });
  return out;
}
