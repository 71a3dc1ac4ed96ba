/**
 * The engine turns replay results and activity outcomes into store writes. Each step is one
 * transaction: a workflow task appends its new events, schedules their activities, sets timers
 * and the run's next wake-up together; an activity's result is appended and wakes the run. A
 * crash between steps loses nothing: the lease runs out and the step is simply done again.
 */
import type { ConsolaInstance } from "consola";
import type { Clock } from "../../core/clock.ts";
import type { Store } from "../../core/store/store.ts";
import { toStoredError } from "../errors.ts";
import { RunRepository, type RunHead } from "../history/runs.ts";
import type { Registry } from "../registry.ts";
import type { ActivityQueue, ActivityTask, NewEvent, StoredError } from "../types.ts";
import { decideRetry, resolveRetry, type RetryDefaults } from "../worker/retry.ts";
import { toMs } from "../duration.ts";
import { replay, type ReplayResult } from "./replay.ts";

export interface EngineOptions {
  clock: Clock;
  log?: ConsolaInstance;
  retry: RetryDefaults;
}

export class Engine {
  readonly runs: RunRepository;

  constructor(
    readonly store: Store,
    readonly registry: Registry,
    readonly activities: ActivityQueue,
    readonly opts: EngineOptions,
  ) {
    this.runs = new RunRepository(store);
  }

  now(): number {
    return this.opts.clock.now();
  }

  /** Replay one leased run and commit what its code decided. Returns false if the lease was lost. */
  async runWorkflowTask(run: RunHead): Promise<boolean> {
    const [ok] = await this.runWorkflowTasks([run]);
    return ok!;
  }

  /**
   * Replay leased runs, then commit all their outcomes in one transaction (a worker's batch:
   * far fewer commits than one per run, which is where the time goes).
   */
  async runWorkflowTasks(runs: RunHead[]): Promise<boolean[]> {
    const prepared = await this.replayRuns(runs);
    return this.store.tx(() => prepared.map((commit) => commit()));
  }

  /** Replay runs; returns their commit steps, to run inside a (batch) transaction later. */
  async replayRuns(runs: RunHead[]): Promise<Array<() => boolean>> {
    const prepared: Array<() => boolean> = [];
    for (const run of runs) prepared.push(await this.prepare(run));
    return prepared;
  }

  /** Replay one run; returns the commit step to run inside the batch transaction. */
  private async prepare(run: RunHead): Promise<() => boolean> {
    const owner = run.lease_owner!;
    let def;
    try {
      def = this.registry.workflow(run.name);
    } catch (err) {
      // a worker without this workflow's code: park it with a clear error, retry once fixed
      this.opts.log?.error(`workflow ${run.id}: ${(err as Error).message}`);
      return () => (this.runs.park(run.id, toStoredError(err), this.now()), true);
    }
    const history = this.runs.history(run.id);
    const seenSeq = history[history.length - 1]?.seq ?? 0;
    const result = await replay({
      runId: run.id,
      definition: def,
      workflowName: run.name,
      history,
      taskNow: this.now(),
      taskSeq: run.task_seq,
      log: this.opts.log ? (m, ...a) => this.opts.log!.info(m, ...a) : undefined,
    });
    return () => this.commit(run.id, owner, seenSeq, result);
  }

  private commit(runId: string, owner: string, seenSeq: number, result: ReplayResult): boolean {
    const now = this.now();
    const cur = this.runs.head(runId);
    // terminated, or our lease ran out and another worker took the run: drop this task's work
    if (!cur || cur.status !== "running" || cur.lease_owner !== owner) return false;
    const lastSeq = this.runs.maxSeq(runId);
    const grew = lastSeq > seenSeq;
    const out = result.outcome;
    if (out.kind === "nondeterminism") {
      this.runs.park(runId, out.error, now);
      this.opts.log?.error(out.error.message);
      return true;
    }
    this.runs.append(runId, result.newEvents, now, lastSeq);
    for (const ev of result.newEvents) this.schedule(runId, ev, now);
    this.runs.setTimers(runId, result.timers);
    if (out.kind === "waiting") {
      const nextTimer = this.runs.nextTimer(runId);
      this.runs.finishTask(runId, result.waitingOn, grew ? now : nextTimer, seenSeq, now);
      return true;
    }
    if (out.kind === "completed") this.finish(runId, "completed", { type: "WorkflowCompleted", cid: null, data: { output: out.output } }, out.output, null, now);
    else if (out.kind === "cancelled") this.finish(runId, "cancelled", { type: "WorkflowCancelled", cid: null, data: { error: out.error } }, null, out.error, now);
    else this.finish(runId, "failed", { type: "WorkflowFailed", cid: null, data: { error: out.error, failed_after_seq: out.failedAfterSeq } }, null, out.error, now);
    return true;
  }

  /** Side effects of a new command event: activity tasks and child runs. */
  private schedule(runId: string, ev: NewEvent, now: number): void {
    if (ev.type === "ActivityScheduled") {
      this.activities.enqueue({ runId, cid: ev.cid!, name: ev.data.name, input: ev.data.input, options: ev.data.options ?? {} }, now);
    } else if (ev.type === "ChildStarted") {
      const existing = this.runs.get(ev.data.id);
      if (existing) {
        const error: StoredError = { name: "WorkflowIdInUse", message: `workflow id '${ev.data.id}' is already used by a ${existing.status} run` };
        this.runs.append(runId, [{ type: "ChildFailed", cid: ev.cid, data: { id: ev.data.id, error } }], now);
        this.runs.wake(runId, now);
        return;
      }
      this.runs.create({ id: ev.data.id, name: ev.data.name, input: ev.data.input, parentId: runId, parentCid: ev.cid! }, now);
    }
  }

  /**
   * Record a terminal state, tell the parent (if it still runs), and terminate children that
   * still run — Temporal's default parent-close policy: nothing is left running orphaned.
   */
  finish(runId: string, status: "completed" | "failed" | "cancelled" | "terminated", ev: NewEvent, output: unknown, error: StoredError | null, now: number): void {
    const run = this.runs.head(runId)!;
    this.runs.append(runId, [ev], now);
    this.runs.finish(runId, status, output, error, now);
    this.activities.dropRun(runId);
    for (const child of this.runs.runningChildren(runId)) {
      const reason = `parent workflow ${runId} ${status}`;
      this.finish(child, "terminated", { type: "WorkflowTerminated", cid: null, data: { reason } }, null, { name: "Terminated", message: reason }, now);
    }
    if (run.parent_id && run.parent_cid !== null && this.runs.head(run.parent_id)?.status === "running") {
      const parentEv: NewEvent =
        status === "completed"
          ? { type: "ChildCompleted", cid: run.parent_cid, data: { id: runId, result: output ?? null } }
          : { type: "ChildFailed", cid: run.parent_cid, data: { id: runId, error: error ?? { name: "ChildWorkflowFailure", message: `child ${status}` } } };
      if (!this.runs.hasResult(run.parent_id, run.parent_cid)) {
        this.runs.append(run.parent_id, [parentEv], now);
        this.runs.wake(run.parent_id, now);
      }
    }
  }

  /** An activity attempt succeeded: record the result once and wake the run. */
  completeActivity(task: ActivityTask, result: unknown): void {
    this.store.tx(() => {
      // lost the lease and someone else runs the task now: their attempt records the result
      if (!this.activities.remove(task)) return;
      if (!this.runs.head(task.runId) || this.runs.hasResult(task.runId, task.cid)) return;
      const now = this.now();
      this.runs.append(task.runId, [{ type: "ActivityCompleted", cid: task.cid, data: { result: result === undefined ? null : result, attempt: task.attempt } }], now);
      this.runs.wake(task.runId, now);
    });
  }

  /** An attempt failed: schedule the next one per the retry policy, or record the failure. */
  failActivity(task: ActivityTask, err: unknown): { final: boolean; reason: string } {
    const error = toStoredError(err);
    const now = this.now();
    const policy = resolveRetry(task.options, this.opts.retry);
    const s2c = task.options.scheduleToCloseTimeout !== undefined ? task.scheduledAt + toMs(task.options.scheduleToCloseTimeout) : Infinity;
    const decision = decideRetry(policy, error, task.attempt, now, s2c);
    if ("retryInMs" in decision) {
      this.store.tx(() => this.activities.retry(task, now + decision.retryInMs, `${error.name}: ${error.message}`));
      return { final: false, reason: `retry in ${decision.retryInMs} ms` };
    }
    this.store.tx(() => {
      if (!this.activities.remove(task)) return;
      if (!this.runs.head(task.runId) || this.runs.hasResult(task.runId, task.cid)) return;
      this.runs.append(task.runId, [{ type: "ActivityFailed", cid: task.cid, data: { error, attempts: task.attempt, reason: decision.final } }], now);
      this.runs.wake(task.runId, now);
    });
    return { final: true, reason: decision.final };
  }
}
