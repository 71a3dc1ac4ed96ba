/**
 * Operations on runs from outside a workflow: start, signal, cancel, terminate, retry, prune and
 * describe. Used by the workflow:* commands and by other code in-process. Each is one
 * transaction; anything that gives a run new events sets it due so a worker replays it.
 */
import { WorkflowError } from "./errors.ts";
import { effectiveHistory } from "./engine/replay.ts";
import type { Engine } from "./engine/engine.ts";
import type { RunState } from "./history/runs.ts";
import { workflowMetrics } from "./worker/metrics.ts";

export interface StartOptions {
  id?: string;
  /** Replace a finished run with the same id (a running one is never replaced). */
  reuse?: boolean;
}

export class WorkflowClient {
  constructor(private engine: Engine) {}

  private get runs() {
    return this.engine.runs;
  }

  private mustGet(id: string): RunState {
    const run = this.runs.get(id);
    if (!run) throw WorkflowError.notFound(id);
    return run;
  }

  /** Start a run; returns its id. Ids are unique: a second start is refused unless `reuse`. */
  start(name: string, input: unknown, opts: StartOptions = {}): string {
    if (this.engine.registry.loaded) this.engine.registry.workflow(name); // unknown names are refused before anything is written
    const id = opts.id ?? crypto.randomUUID();
    this.engine.store.tx(() => {
      const existing = this.runs.get(id);
      if (existing && (existing.status === "running" || !opts.reuse)) throw WorkflowError.duplicateId(id, existing.status);
      if (existing) this.engine.activities.dropRun(id);
      this.runs.create({ id, name, input: input ?? null }, this.engine.now(), !!existing);
    });
    workflowMetrics.started.inc({ workflow: name });
    return id;
  }

  /** Deliver a signal; recorded at once, applied when a worker next replays the run. */
  signal(id: string, name: string, payload: unknown): void {
    this.engine.store.tx(() => {
      const run = this.mustGet(id);
      if (run.status !== "running") throw WorkflowError.notRunning(id, run.status, "signal");
      const now = this.engine.now();
      this.runs.append(id, [{ type: "SignalReceived", cid: null, data: { name, payload: payload ?? null } }], now);
      this.runs.wake(id, now);
    });
  }

  /** Graceful: pending waits throw CancelledFailure and compensations run; children are cancelled too. */
  cancel(id: string, reason = "cancelled"): string[] {
    const cancelled: string[] = [];
    this.engine.store.tx(() => {
      const run = this.mustGet(id);
      if (run.status !== "running") throw WorkflowError.notRunning(id, run.status, "cancel");
      const walk = (rid: string) => {
        const now = this.engine.now();
        this.runs.append(rid, [{ type: "CancelRequested", cid: null, data: { reason } }], now);
        this.runs.wake(rid, now);
        cancelled.push(rid);
        for (const child of this.runs.runningChildren(rid)) walk(child);
      };
      walk(id);
    });
    return cancelled;
  }

  /** Immediate: no compensation, pending activities dropped; running children terminated too. */
  terminate(id: string, reason = "terminated"): string[] {
    const terminated: string[] = [];
    this.engine.store.tx(() => {
      const run = this.mustGet(id);
      if (run.status !== "running") throw WorkflowError.notRunning(id, run.status, "terminate");
      const walk = (rid: string) => {
        terminated.push(rid);
        for (const child of this.runs.runningChildren(rid)) walk(child);
      };
      walk(id);
      // finish() terminates the running children too (parent-close policy)
      this.engine.finish(id, "terminated", { type: "WorkflowTerminated", cid: null, data: { reason } }, null, { name: "Terminated", message: reason }, this.engine.now());
    });
    return terminated;
  }

  /**
   * Resume a failed run. A run parked by non-determinism (or an unknown workflow) is replayed as
   * is, against the fixed code. A run that failed is reset to just before the failure that ended
   * it — the failed activity (or child) runs again, with fresh attempts — and resumes from there.
   */
  retry(id: string): { id: string; from_seq: number | null; rescheduled: number } {
    return this.engine.store.tx(() => {
      const run = this.mustGet(id);
      if (run.status !== "failed") throw WorkflowError.notRunning(id, run.status, "retry");
      const now = this.engine.now();
      const history = effectiveHistory(this.runs.history(id));
      const last = history[history.length - 1]!;
      let fromSeq: number | null = null;
      if (last.type === "WorkflowFailed") {
        const details = last.data.error?.details ?? {};
        let failedEv = history.find((e) => e.type === "ActivityFailed" && details.cid !== undefined && e.cid === details.cid);
        if (!failedEv && details.child) {
          const started = history.find((e) => e.type === "ChildStarted" && e.data.id === details.child);
          failedEv = history.find((e) => e.type === "ChildFailed" && e.cid === started?.cid);
          if (this.runs.get(details.child)?.status === "failed") this.retry(details.child);
        }
        fromSeq = failedEv ? failedEv.seq : (last.data.failed_after_seq as number) + 1;
        this.runs.append(id, [{ type: "WorkflowRetried", cid: null, data: { from_seq: fromSeq } }], now);
      }
      // activities whose result was voided (or never came) are scheduled again; a parked run's
      // tasks are left alone (one may be running right now), a failed run has none left
      if (fromSeq !== null) this.engine.activities.dropRun(id);
      const after = effectiveHistory(this.runs.history(id));
      const answered = new Set(after.filter((e) => e.type === "ActivityCompleted" || e.type === "ActivityFailed").map((e) => e.cid));
      let rescheduled = 0;
      for (const ev of after) {
        if (ev.type !== "ActivityScheduled" || answered.has(ev.cid)) continue;
        this.engine.activities.enqueue({ runId: id, cid: ev.cid!, name: ev.data.name, input: ev.data.input, options: ev.data.options ?? {} }, now);
        rescheduled++;
      }
      this.runs.reopen(id, now);
      return { id, from_seq: fromSeq, rescheduled };
    });
  }

  /** Delete finished runs (and their history) that ended more than `days` ago. */
  prune(days: number): number {
    const cutoff = this.engine.now() - days * 86_400_000;
    return this.engine.store.tx(() => {
      const db = this.engine.store.db;
      const ids = (db.query("SELECT id FROM workflow_runs WHERE status != 'running' AND completed_at <= ?1").all(cutoff) as { id: string }[]).map((r) => r.id);
      const delEvents = db.prepare("DELETE FROM workflow_events WHERE run_id = ?1");
      const delTimers = db.prepare("DELETE FROM workflow_timers WHERE run_id = ?1");
      const delRun = db.prepare("DELETE FROM workflow_runs WHERE id = ?1");
      for (const id of ids) {
        delEvents.run(id);
        delTimers.run(id);
        this.engine.activities.dropRun(id);
        delRun.run(id);
      }
      return ids.length;
    });
  }

  /** Everything workflow:status shows. */
  describe(id: string) {
    const run = this.mustGet(id);
    const history = this.runs.history(id);
    const pendingSignals = history.filter((e) => e.type === "SignalReceived" && e.seq > run.task_seq).map((e) => e.data.name);
    return {
      id: run.id,
      name: run.name,
      status: run.status,
      waiting_on: run.waiting_on,
      input: run.input,
      output: run.output,
      error: run.error,
      parent_id: run.parent_id,
      created_at: new Date(run.created_at).toISOString(),
      updated_at: new Date(run.updated_at).toISOString(),
      completed_at: run.completed_at ? new Date(run.completed_at).toISOString() : null,
      events: history.length,
      timers: this.runs.timers(id).map((t) => ({ id: t.cid, fires_at: new Date(t.fire_at).toISOString() })),
      signals_not_yet_seen: pendingSignals,
      activities: this.engine.activities.ofRun(id).map((t) => ({
        id: t.cid,
        name: t.name,
        attempts: t.attempt,
        state: t.leased ? "running" : t.attempt > 0 ? "retrying" : "scheduled",
        next_attempt_at: t.leased ? null : new Date(t.available_at).toISOString(),
        last_error: t.last_error,
      })),
      children: this.engine.store.db.query("SELECT id, name, status FROM workflow_runs WHERE parent_id = ?1 ORDER BY created_at").all(id),
    };
  }
}
