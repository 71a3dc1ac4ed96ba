/**
 * The `schedule:` config section: a list of entries. Each has a `name`, one task (`run`,
 * `command`, `job` or `workflow`), one frequency (`cron` or a Laravel helper), and options.
 *
 *   schedule:
 *     - name: backup
 *       run: ./backup.sh
 *       daily_at: "02:00"
 *       timezone: Europe/Paris
 *       without_overlapping: true
 */
import { closest, list, obj, val, type Schema } from "../core/config/schema.ts";
import { SecurelyError } from "../core/errors.ts";
import { parseCron } from "./cron/parse.ts";
import { ScheduleError } from "./errors.ts";
import { isTimeZone } from "./cron/timezone.ts";
import { FREQUENCIES, helperExpression, HelperProblem, MODIFIERS, parseTime } from "./frequencies.ts";
import { TASK_KINDS, type HookName, type ScheduleEntry, type TaskKind } from "./types.ts";

const HOOKS: HookName[] = ["before", "after", "on_success", "on_failure"];
const FREQUENCY_KEYS = ["cron", ...Object.keys(FREQUENCIES)];

const set = (v: unknown) => v !== undefined && v !== null && v !== false;

const entrySchema = obj(
  {
    name: val("required|string|regex:/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/", undefined, "Unique name (letters, digits, _ . : -), used by schedule:test and in locks."),
    description: val("string", undefined, "Shown by schedule:list."),
    run: val("string", undefined, "Shell command line to run (/bin/sh -c), from the config file's folder."),
    command: val("string", undefined, 'securely command line to run, e.g. "cache:prune" (a child process of this binary).'),
    job: val("string", undefined, "Queue job handler to push, with `payload` on `queue`."),
    workflow: val("string", undefined, "Workflow to start, with `payload` as its input."),
    payload: val("", undefined, "Job payload or workflow input (any YAML value)."),
    queue: val("string", undefined, "Queue a `job` entry pushes to (default: the queue's default)."),
    cron: val("string", undefined, 'Cron expression: 5 fields, or 6 with seconds first; macros @hourly, @daily …'),
    timezone: val("string", "UTC", "IANA time zone the expression and `between` are read in."),
    ...Object.fromEntries(Object.entries(FREQUENCIES).map(([k, f]) => [k, val("", undefined, `Frequency helper: ${f.doc}.`)])),
    ...Object.fromEntries(Object.entries(MODIFIERS).map(([k, m]) => [k, val("", undefined, `Modifier: ${m.doc}.`)])),
    between: val("", undefined, 'Only run between two times of day: ["08:00", "17:00"] (may wrap midnight).'),
    unless_between: val("", undefined, 'Never run between two times of day: ["23:00", "04:00"].'),
    environments: list(val("string"), [], "Only run when SECURELY_ENV (default production) is one of these; empty = always."),
    without_overlapping: val("", false, "Skip a run while the previous one still runs: true (lock expires after 1440 min) or minutes."),
    on_one_server: val("boolean", false, "Run each tick on one server only, via a lock in the cache store (shared store file or Redis)."),
    run_in_background: val("boolean", false, "Start the task and go on to the next entry without waiting for it."),
    timeout: val("duration", 0, "Kill a run/command task after this long (seconds or 30s/5m/1h); 0 = never."),
    output: val("string", undefined, "Append the task's output to this file (relative to the config file's folder)."),
    before: val("string", undefined, "Shell hook run before the task."),
    after: val("string", undefined, "Shell hook run after the task, whatever its outcome."),
    on_success: val("string", undefined, "Shell hook run after the task succeeded."),
    on_failure: val("string", undefined, "Shell hook run after the task failed."),
  },
  { check: (e) => entryProblems(e) },
);

export const scheduleConfig: Schema = list(entrySchema, [], "Scheduled tasks (Laravel's Scheduler); schedule:work and serve run them.");

function timeRange(v: unknown): [string, string] {
  if (!Array.isArray(v) || v.length !== 2) throw new HelperProblem('expected two times: ["08:00", "17:00"]');
  parseTime(v[0]);
  parseTime(v[1]);
  return [String(v[0]), String(v[1])];
}

function overlapMinutes(v: unknown): number {
  if (v === false || v === undefined || v === null) return 0;
  if (v === true) return 1440;
  if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  throw new HelperProblem(`expected true, false or a number of minutes, got ${JSON.stringify(v)}`);
}

/** Cross-field checks, as [key, message] pairs for the config loader. */
function entryProblems(e: Record<string, any>): Array<[string, string]> {
  try {
    resolveEntry(e);
    return [];
  } catch (err) {
    if (err instanceof EntryProblem) return [[err.key, err.message]];
    throw err;
  }
}

class EntryProblem extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

/** Turn one validated config entry into a ScheduleEntry; throws EntryProblem naming the key. */
export function resolveEntry(e: Record<string, any>): ScheduleEntry {
  const kinds = TASK_KINDS.filter((k) => set(e[k]));
  if (kinds.length !== 1) {
    throw new EntryProblem("", kinds.length ? `has ${kinds.join(" and ")}; keep one task per entry` : `needs a task: one of ${TASK_KINDS.join(", ")}`);
  }
  const kind = kinds[0] as TaskKind;
  if ((set(e.payload) || set(e.queue)) && kind !== "job" && kind !== "workflow") {
    throw new EntryProblem(set(e.payload) ? "payload" : "queue", `is only used by job and workflow entries`);
  }
  const freqs = FREQUENCY_KEYS.filter((k) => set(e[k]));
  if (freqs.length !== 1) {
    throw new EntryProblem("", freqs.length ? `has ${freqs.join(" and ")}; keep one frequency per entry` : `needs a frequency: cron, or a helper such as every_minute, hourly_at, daily_at`);
  }
  if (!isTimeZone(e.timezone)) throw new EntryProblem("timezone", `unknown time zone ${JSON.stringify(e.timezone)}; use an IANA name such as UTC or Europe/Paris`);
  let expression: string;
  if (freqs[0] === "cron") {
    const modifier = Object.keys(MODIFIERS).find((k) => set(e[k]));
    if (modifier) throw new EntryProblem(modifier, "works with the frequency helpers only; fold it into the cron expression");
    expression = String(e.cron);
  } else {
    try {
      expression = helperExpression(e, freqs[0]!);
    } catch (err) {
      if (err instanceof HelperProblem) throw new EntryProblem(err.key ?? freqs[0]!, err.message);
      throw err;
    }
  }
  let cron;
  try {
    cron = parseCron(expression);
  } catch (err) {
    throw new EntryProblem(freqs[0] === "cron" ? "cron" : freqs[0]!, (err as Error).message);
  }
  const guarded = <T>(key: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof HelperProblem) throw new EntryProblem(key, err.message);
      throw err;
    }
  };
  return {
    name: e.name,
    description: e.description,
    kind,
    target: String(e[kind]),
    payload: e.payload,
    queue: e.queue,
    expression,
    cron,
    timezone: e.timezone,
    between: set(e.between) ? guarded("between", () => timeRange(e.between)) : undefined,
    unlessBetween: set(e.unless_between) ? guarded("unless_between", () => timeRange(e.unless_between)) : undefined,
    environments: e.environments ?? [],
    withoutOverlapping: guarded("without_overlapping", () => overlapMinutes(e.without_overlapping)),
    onOneServer: Boolean(e.on_one_server),
    runInBackground: Boolean(e.run_in_background),
    timeout: Number(e.timeout ?? 0),
    output: e.output,
    hooks: Object.fromEntries(HOOKS.filter((h) => set(e[h])).map((h) => [h, String(e[h])])),
  };
}

/** Every entry of a validated `schedule:` section; names must be unique. */
export function resolveEntries(section: Record<string, any>[] | undefined): ScheduleEntry[] {
  const out: ScheduleEntry[] = [];
  const seen = new Map<string, number>();
  (section ?? []).forEach((raw, i) => {
    const first = seen.get(raw.name);
    if (first !== undefined) {
      throw new SecurelyError(`schedule[${i}].name: '${raw.name}' is already used by schedule[${first}]`, { code: "E_CONFIG", hint: "give every entry its own name" });
    }
    seen.set(raw.name, i);
    out.push(resolveEntry(raw));
  });
  return out;
}

/** The entry named `name`, or a did-you-mean error. */
export function findEntry(entries: ScheduleEntry[], name: string): ScheduleEntry {
  const e = entries.find((x) => x.name === name);
  if (e) return e;
  throw ScheduleError.unknownEntry(name, closest(name, entries.map((x) => x.name)));
}
