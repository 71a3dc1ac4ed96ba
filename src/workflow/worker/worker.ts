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
  private stopping = false;
  private kickResolve?: () => void;
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
        if (this.opts.stopWhenEmpty && this.running.size === 0 && this.isEmpty()) break;
        await this.idle();
      }
      while (this.running.size > 0) await this.drained();
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

  /** One pass: due workflow tasks first (they schedule activities), then free activity slots. */
  async tick(): Promise<boolean> {
    const e = this.engine;
    let did = false;
    const runs = e.store.tx(() => e.runs.claimDue(this.owner, e.now(), this.opts.leaseMs, 64));
    for (const run of runs) {
      if (this.stopping && this.stopController.signal.aborted) break;
      await e.runWorkflowTask(run);
      this.processed.workflowTasks++;
      workflowMetrics.workflowTasks.inc();
      did = true;
    }
    const free = this.opts.concurrency - this.running.size;
    if (free > 0 && !this.stopping) {
      const tasks = e.activities.claim(this.owner, e.now(), free, this.opts.leaseMs);
      for (const t of tasks) this.start(t);
      if (tasks.length) did = true;
    }
    return did;
  }

  private start(task: ActivityTask): void {
    this.running.set(task.id, task);
    const e = this.engine;
    const workflowName = e.runs.get(task.runId)?.name ?? "?";
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
        if (res.ok) {
          e.completeActivity(task, res.value);
          workflowMetrics.activities.inc({ outcome: "completed" });
        } else if (this.stopController.signal.aborted) {
          // worker stopped fast: leave the task leased; it runs again after the lease
        } else {
          const d = e.failActivity(task, res.error);
          workflowMetrics.activities.inc({ outcome: d.final ? "failed" : "retried" });
          e.opts.log?.warn(`activity ${task.name} of ${task.runId} attempt ${task.attempt} failed: ${(res.error as Error)?.message ?? res.error} (${d.final ? `final: ${d.reason}` : d.reason})`);
        }
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
    this.kickResolve?.();
  }

  /** Sleep until kicked, another process commits, or the poll interval passes. */
  private async idle(): Promise<void> {
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
