/**
 * The Scheduler decides what is owed in a window of time and runs it, Laravel's way:
 * environments and between/unless_between filter; a tick is claimed in schedule_runs so it runs
 * once per host even across restarts; on_one_server adds a lock in the cache store shared by
 * every server (the store file or Redis); without_overlapping holds a cache lock while running.
 * Time always comes from the injected clock, so tests freeze it and call tick() directly.
 */
import { appendFileSync } from "node:fs";
import { hostname } from "node:os";
import type { App } from "../core/app.ts";
import type { Clock } from "../core/clock.ts";
import { metrics } from "../core/metrics/registry.ts";
import type { Repository } from "../cache/index.ts";
import { lastDueIn } from "./cron/next.ts";
import { localParts } from "./cron/timezone.ts";
import { parseTime } from "./frequencies.ts";
import type { RunHistory } from "./history.ts";
import { runHook, TASK_RUNNERS, type TaskRunner } from "./tasks/index.ts";
import type { RunStatus, ScheduleEntry, TaskKind, TaskResult } from "./types.ts";

export interface SchedulerOptions {
  clock?: Clock;
  /** This server's identity in the run history. @default os.hostname() */
  host?: string;
  /** Locks for without_overlapping and on_one_server. */
  locks: Repository;
  history: RunHistory;
  /** Replace task runners (tests). */
  runners?: Partial<Record<TaskKind, TaskRunner>>;
}

export interface RunOutcome {
  name: string;
  due_at: number;
  status: RunStatus | "already-ran";
  exit_code?: number;
  reason?: string;
  output?: string;
  duration_ms?: number;
}

const runsTotal = metrics.counter("securely_schedule_runs_total", "Scheduled runs by entry and status (success, failed, skipped).");
const runSeconds = metrics.histogram("securely_schedule_run_duration_seconds", "How long scheduled tasks ran, hooks included.");

/** Ticks owed further back than this are not chased: a stalled loop runs the latest once. */
const LOOKBACK_MS = 61_000;

export class Scheduler {
  readonly clock: Clock;
  readonly host: string;
  /** Background runs still going, so a graceful stop can wait for them. */
  readonly inFlight = new Set<Promise<RunOutcome>>();
  private runners: Record<TaskKind, TaskRunner>;

  constructor(private app: App, readonly entries: ScheduleEntry[], private opts: SchedulerOptions) {
    this.clock = opts.clock ?? app.clock;
    this.host = opts.host ?? hostname();
    this.runners = { ...TASK_RUNNERS, ...opts.runners };
  }

  /** SECURELY_ENV, else APP_ENV (a Laravel habit), else production. */
  get environment(): string {
    return this.app.env.SECURELY_ENV ?? this.app.env.APP_ENV ?? "production";
  }

  /** Whether the entry may run here at all (its environments). */
  runsHere(e: ScheduleEntry): boolean {
    return e.environments.length === 0 || e.environments.includes(this.environment);
  }

  /** Whether `between` / `unless_between` allow a run at `at`. */
  withinHours(e: ScheduleEntry, at: number): boolean {
    const p = localParts(at, e.timezone);
    const now = p.hour * 60 + p.minute;
    const inside = ([from, to]: [string, string]) => {
      const [fh, fm] = parseTime(from);
      const [th, tm] = parseTime(to);
      const a = fh * 60 + fm;
      const b = th * 60 + tm;
      return a <= b ? now >= a && now <= b : now >= a || now <= b; // wraps midnight
    };
    if (e.between && !inside(e.between)) return false;
    if (e.unlessBetween && inside(e.unlessBetween)) return false;
    return true;
  }

  /** Entries owed a run in (from, to], each with its latest due tick. */
  due(from: number, to: number): [ScheduleEntry, number][] {
    const out: [ScheduleEntry, number][] = [];
    for (const e of this.entries) {
      if (!this.runsHere(e)) continue;
      const at = lastDueIn(e.cron, Math.max(from, to - LOOKBACK_MS), to, e.timezone);
      if (at !== undefined && this.withinHours(e, at)) out.push([e, at]);
    }
    return out;
  }

  /** Run what is owed in (from, to]: foreground entries one after another, background ones alongside. */
  async tick(from: number, to: number): Promise<RunOutcome[]> {
    const outcomes: RunOutcome[] = [];
    for (const [e, at] of this.due(from, to)) {
      const run = this.run(e, at);
      if (e.runInBackground) {
        this.inFlight.add(run);
        run.finally(() => this.inFlight.delete(run));
        outcomes.push({ name: e.name, due_at: at, status: "running" });
      } else outcomes.push(await run);
    }
    return outcomes;
  }

  /** Claim and run one tick of one entry; `claim: false` runs it regardless (schedule:test). */
  async run(e: ScheduleEntry, dueAt: number, opts: { claim?: boolean } = {}): Promise<RunOutcome> {
    const claim = opts.claim ?? true;
    const host = e.onOneServer ? "*" : this.host;
    const history = this.opts.history;
    if (claim && !history.claim(e.name, dueAt, host, this.clock.now())) return { name: e.name, due_at: dueAt, status: "already-ran" };
    const skip = (reason: string): RunOutcome => {
      if (claim) history.finish(e.name, dueAt, host, { status: "skipped", now: this.clock.now(), reason });
      this.app.log.debug(`schedule ${e.name}: skipped, ${reason}`);
      runsTotal.inc({ name: e.name, status: "skipped" });
      return { name: e.name, due_at: dueAt, status: "skipped", reason };
    };
    const locks = this.opts.locks;
    if (e.onOneServer && claim && !(await locks.add(`schedule:one-server:${e.name}:${dueAt}`, this.host, 3600))) {
      return skip("ran on another server");
    }
    const overlap = e.withoutOverlapping ? locks.lock(`schedule:overlap:${e.name}`, e.withoutOverlapping * 60) : undefined;
    if (overlap && !(await overlap.get())) return skip("the previous run is still running");
    const started = Date.now();
    let result: TaskResult;
    try {
      result = await this.execute(e);
    } finally {
      await overlap?.release().catch(() => {});
    }
    const status: RunStatus = result.exitCode === 0 ? "success" : "failed";
    runsTotal.inc({ name: e.name, status });
    runSeconds.observe((Date.now() - started) / 1000);
    if (claim) history.finish(e.name, dueAt, host, { status, now: this.clock.now(), exitCode: result.exitCode, output: result.output });
    const line = `schedule ${e.name}: ${status} (exit ${result.exitCode})`;
    if (status === "failed") this.app.log.warn(`${line}: ${lastLine(result.output)}`);
    else this.app.log.info(line);
    return { name: e.name, due_at: dueAt, status, exit_code: result.exitCode, output: result.output, duration_ms: Date.now() - started };
  }

  /** Hooks and the task itself; a thrown error is a failed run, never a crashed scheduler. */
  private async execute(e: ScheduleEntry): Promise<TaskResult> {
    const hook = async (name: keyof ScheduleEntry["hooks"], extra: Record<string, string> = {}) => {
      const line = e.hooks[name];
      if (!line) return;
      const r = await runHook(this.app, e, line, extra);
      if (r.exitCode !== 0) this.app.log.warn(`schedule ${e.name}: ${name} hook exited ${r.exitCode}: ${lastLine(r.output)}`);
    };
    await hook("before");
    let result: TaskResult;
    try {
      result = await this.runners[e.kind](this.app, e);
    } catch (err) {
      result = { exitCode: 1, output: `${(err as Error).message}\n` };
    }
    if (e.output) {
      try {
        appendFileSync(this.app.resolvePath(e.output), result.output);
      } catch (err) {
        this.app.log.warn(`schedule ${e.name}: cannot append output to ${e.output}: ${(err as Error).message}`);
      }
    }
    const extra = { SECURELY_SCHEDULE_EXIT_CODE: String(result.exitCode) };
    await hook(result.exitCode === 0 ? "on_success" : "on_failure", extra);
    await hook("after", extra);
    return result;
  }

  /** Wait for background runs (graceful stop), at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    await Promise.race([Promise.allSettled([...this.inFlight]), Bun.sleep(timeoutMs)]);
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() || "(no output)";
}
