/**
 * The workflow worker: one loop that leases due workflow tasks (replay + commit, one at a time)
 * and activity tasks (up to `concurrency` at once), and sleeps when idle until its own work
 * makes something due, another process commits (PRAGMA data_version moves), or a timer is due.
 * Leases of running activities are extended while they run; leases held by dead processes on
 * this host are released at start, so a restarted worker resumes at once.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Engine } from "../engine/engine.ts";
import type { ActivityTask } from "../types.ts";
import { runAttempt } from "./attempt.ts";
import { workflowMetrics } from "./metrics.ts";

export interface WorkerOptions {
  /** Activities run at once. */
  concurrency: number;
  /** Lease of a workflow task or an activity attempt, extended while it runs. */
  leaseMs: number;
  /** Longest idle sleep between checks for due work. */
  pollMs: number;
  /** Exit once nothing is due and nothing runs (timers in the future do not count). */
  stopWhenEmpty?: boolean;
  /** Stop after this many ms. */
  maxTimeMs?: number;
}

export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export class Worker {
  readonly owner = newOwnerId();
  private running = new Map<number, ActivityTask>();
  /** Finished attempts not yet recorded: the next tick records them in its transaction. */
  private outcomes: Array<{ task: ActivityTask; ok: boolean; value?: unknown; error?: unknown }> = [];
  /** Replays done but not yet committed: the next pass commits them in its transaction. */
  private replayed: Array<() => boolean> = [];
  private stopping = false;
  private kickResolve?: () => void;
  private kicked = false;
  private stopController = new AbortController();
  private dataVersion;
  private nextWake;
  processed = { workflowTasks: 0, activities: 0 };

  constructor(
    private engine: Engine,
    private opts: WorkerOptions,
  ) {
    this.dataVersion = engine.store.db.prepare("PRAGMA data_version");
    this.nextWake = engine.store.db.prepare("SELECT MIN(wake_at) AS t FROM workflow_runs WHERE status = 'running' AND wake_at IS NOT NULL");
  }

  /** Run until stop() (or, with stopWhenEmpty, until idle). */
  async run(): Promise<void> {
    const started = Date.now();
    this.releaseDeadOwners();
    const extender = setInterval(() => this.extendLeases(), Math.max(50, this.opts.leaseMs / 3));
    try {
      while (!this.stopping) {
        if (this.opts.maxTimeMs !== undefined && Date.now() - started >= this.opts.maxTimeMs) break;
        const did = await this.tick();
        if (did) continue;
        this.flush();
        if (this.opts.stopWhenEmpty && this.running.size === 0 && this.outcomes.length === 0 && this.isEmpty()) break;
        await this.idle();
      }
      this.flush();
      while (this.running.size > 0) await this.drained();
      this.flush();
    } finally {
      clearInterval(extender);
    }
  }

  /** Graceful: finish running activities. Fast: abandon them (their leases run out, they run again). */
  stop(graceful = true): void {
    this.stopping = true;
    if (!graceful) this.stopController.abort(new Error("worker stopped"));
    this.kick();
  }

  /**
   * One pass, one transaction: commit the replays of the previous pass, record finished activity
   * attempts, lease due workflow tasks and as many activity tasks as there are free slots; then
   * replay the leased runs (committed by the next pass). Batching is what makes the store keep up.
   */
  async tick(): Promise<boolean> {
    const e = this.engine;
    const outcomes = this.outcomes.splice(0);
    const commits = this.replayed.splice(0);
    const free = this.stopping ? 0 : this.opts.concurrency - this.running.size;
    const { runs, tasks } = e.store.tx(() => {
      for (const commit of commits) commit();
      for (const o of outcomes) this.settle(o);
      const now = e.now();
      const runs = this.stopping ? [] : e.runs.claimDue(this.owner, now, this.opts.leaseMs, 32);
      return { runs, tasks: free > 0 ? e.activities.claim(this.owner, now, free, this.opts.leaseMs) : [] };
    });
    for (const t of tasks) this.start(t);
    if (runs.length) {
      this.replayed = await e.replayRuns(runs);
      this.processed.workflowTasks += runs.length;
      workflowMetrics.workflowTasks.inc(undefined, runs.length);
    }
    return commits.length > 0 || outcomes.length > 0 || runs.length > 0 || tasks.length > 0;
  }

  /** Commit what the last pass replayed and record finished attempts (before idling or exiting). */
  private flush(): void {
    if (this.replayed.length === 0 && this.outcomes.length === 0) return;
    const commits = this.replayed.splice(0);
    const outcomes = this.outcomes.splice(0);
    this.engine.store.tx(() => {
      for (const commit of commits) commit();
      for (const o of outcomes) this.settle(o);
    });
  }

  private settle(o: { task: ActivityTask; ok: boolean; value?: unknown; error?: unknown }): void {
    const e = this.engine;
    if (o.ok) {
      e.completeActivity(o.task, o.value);
      workflowMetrics.activities.inc({ outcome: "completed" });
      return;
    }
    const d = e.failActivity(o.task, o.error);
    workflowMetrics.activities.inc({ outcome: d.final ? "failed" : "retried" });
    e.opts.log?.warn(`activity ${o.task.name} of ${o.task.runId} attempt ${o.task.attempt} failed: ${(o.error as Error)?.message ?? o.error} (${d.final ? `final: ${d.reason}` : d.reason})`);
  }

  private start(task: ActivityTask): void {
    this.running.set(task.id, task);
    const e = this.engine;
    const workflowName = e.runs.head(task.runId)?.name ?? "?";
    let beatAt = 0;
    void runAttempt(task, e.registry.activity(task.name), {
      workflowName,
      stopSignal: this.stopController.signal,
      log: (m, ...a) => e.opts.log?.info(`[${task.runId} ${task.name}#${task.attempt}] ${m}`, ...a),
      heartbeat: (details) => {
        // at most one write per second; the lease extender covers the rest
        if (Date.now() - beatAt < 1000 && details === undefined) return;
        beatAt = Date.now();
        try {
          e.store.tx(() => e.activities.extend(task, e.now() + this.opts.leaseMs, details));
        } catch {}
      },
    })
      .then((res) => {
        // worker stopped fast: leave the task leased; it runs again after the lease
        if (!res.ok && this.stopController.signal.aborted) return;
        this.outcomes.push(res.ok ? { task, ok: true, value: res.value } : { task, ok: false, error: res.error });
        this.processed.activities++;
      })
      .catch((err) => e.opts.log?.error(`activity ${task.name} of ${task.runId}: ${(err as Error).message}`))
      .finally(() => {
        this.running.delete(task.id);
        this.kick();
      });
  }

  private extendLeases(): void {
    if (this.running.size === 0) return;
    const e = this.engine;
    try {
      e.store.tx(() => {
        for (const t of this.running.values()) e.activities.extend(t, e.now() + this.opts.leaseMs);
      });
    } catch (err) {
      e.opts.log?.warn(`cannot extend activity leases: ${(err as Error).message}`);
    }
  }

  /** Leases of processes on this host that no longer exist are freed: no waiting for expiry. */
  releaseDeadOwners(): number {
    const e = this.engine;
    const host = hostname();
    let released = 0;
    const owners = new Set([...e.runs.leaseOwners(), ...e.activities.leaseOwners()]);
    for (const owner of owners) {
      const [h, pid] = owner.split(":");
      if (h !== host || owner === this.owner || isAlive(Number(pid))) continue;
      e.store.tx(() => {
        released += e.runs.releaseOwner(owner) + e.activities.releaseOwner(owner);
      });
    }
    if (released) e.opts.log?.info(`released ${released} lease(s) of stopped workers`);
    return released;
  }

  /** When the next workflow task or activity becomes due (null: nothing scheduled). */
  private nextDue(): number | null {
    const e = this.engine;
    const row = this.nextWake.get() as { t: number | null };
    const task = e.activities.nextDue(e.now());
    if (row.t === null) return task;
    return task === null ? row.t : Math.min(row.t, task);
  }

  private isEmpty(): boolean {
    const next = this.nextDue();
    return next === null || next > this.engine.now() + this.opts.pollMs;
  }

  /** Wait for one running activity to end (or 50 ms). */
  private drained(): Promise<void> {
    return Promise.race([new Promise<void>((r) => (this.kickResolve = r)), Bun.sleep(50)]);
  }

  kick(): void {
    this.kicked = true; // a kick while busy must not be lost: the next idle() returns at once
    this.kickResolve?.();
  }

  /** Sleep until kicked, another process commits, or the poll interval passes. */
  private async idle(): Promise<void> {
    if (this.kicked) {
      this.kicked = false;
      return;
    }
    const start = this.version();
    const next = this.nextDue();
    const until = Date.now() + Math.max(1, Math.min(this.opts.pollMs, next === null ? Infinity : next - this.engine.now()));
    let kicked = false;
    const kickP = new Promise<void>((r) => (this.kickResolve = () => ((kicked = true), r())));
    while (!kicked && !this.stopping && Date.now() < until) {
      await Promise.race([kickP, Bun.sleep(10)]);
      if (this.version() !== start) break;
    }
    this.kickResolve = undefined;
    this.kicked = false;
  }

  private version(): number {
    try {
      return (this.dataVersion.get() as { data_version: number }).data_version;
    } catch {
      return 0;
    }
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
