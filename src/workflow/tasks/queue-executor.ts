/**
 * `workflow.executor: queue` — workflow tasks and activity attempts run as queue jobs, so
 * `queue:work` (or `workflow:work`, which runs a queue worker) executes them and they show in
 * queue:stats. The history, timers and task rows stay in the workflow tables (the source of
 * truth); a job only says "this run / this task is due". With the sqlite queue driver the job is
 * inserted inside the very transaction that made the run or task due (the driver's push runs
 * synchronously on the store's connection), so nothing due is ever left without its job.
 * Duplicate jobs are harmless: a job whose run or task is not due (or already done) does nothing.
 */
import { App } from "../../core/app.ts";
import { splitGlobals } from "../../core/cli/run.ts";
import { errorMessage } from "../../core/errors.ts";
import { openQueue, queueModule, registerHandler, validateJob, type JobContext } from "../../queue/index.ts";
import type { Runtime } from "../runtime.ts";
import type { SqliteActivityQueue } from "./sqlite.ts";
import { runAttempt } from "../worker/attempt.ts";
import { newOwnerId, Worker } from "../worker/worker.ts";
import { workflowMetrics } from "../worker/metrics.ts";

export const TASK_JOB = "workflow.task";
export const ACTIVITY_JOB = "workflow.activity";
/** Attempts are the workflow's business (retry policy); a queue job is only a wake-up. */
const JOB_TRIES = 1_000_000;

/** Make a runtime push a queue job whenever a run or an activity task becomes due. */
export function dispatchToQueue(app: App, rt: Runtime): void {
  registerQueueHandlers();
  const q = openQueue(app);
  atomicDispatch.set(rt, q.driver.name === "sqlite");
  const queue = app.config.get<string>("workflow.queue");
  const push = (handler: string, payload: unknown, at: number) => {
    const now = app.clock.now();
    const spec = validateJob(app, { handler, payload, queue, delay: Math.max(0, (at - now) / 1000), tries: JOB_TRIES, timeout: 0 }, handler);
    q.driver.push([spec], now).catch((err) => app.log.error(`workflow: cannot push ${handler} job: ${errorMessage(err)}`));
  };
  rt.engine.runs.onDue = (runId, at) => push(TASK_JOB, { run_id: runId }, at);
  const tasks = rt.engine.activities as SqliteActivityQueue;
  tasks.onDue = (taskId, at, runId) => push(ACTIVITY_JOB, { task_id: taskId, run_id: runId }, at);
}

/** Whether a runtime's job pushes commit with its store writes (sqlite driver) or after them. */
const atomicDispatch = new WeakMap<Runtime, boolean>();

/**
 * With a queue driver outside the store (redis), a push can be lost if the process dies right
 * after the store commit. The sweeper pushes a job again for every run or task that has been due
 * for longer than a lease without anyone holding it. Returns how many it re-pushed.
 */
export function sweepLostJobs(rt: Runtime, leaseMs: number): number {
  const e = rt.engine;
  const cutoff = e.now() - leaseMs;
  const db = e.store.db;
  const runs = db.query("SELECT id, wake_at FROM workflow_runs WHERE status = 'running' AND wake_at IS NOT NULL AND wake_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1) LIMIT 1000").all(cutoff) as { id: string; wake_at: number }[];
  const tasks = db.query("SELECT id, run_id, available_at FROM workflow_tasks WHERE available_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1) LIMIT 1000").all(cutoff) as { id: number; run_id: string; available_at: number }[];
  for (const r of runs) e.runs.onDue?.(r.id, e.now());
  const q = e.activities as SqliteActivityQueue;
  for (const t of tasks) q.onDue?.(t.id, e.now(), t.run_id);
  if (runs.length + tasks.length) e.opts.log?.info(`workflow: re-pushed ${runs.length + tasks.length} job(s) for work due longer than a lease`);
  return runs.length + tasks.length;
}

/** A sweeper is only needed where pushes are not part of the store transaction. */
export function needsSweeper(rt: Runtime): boolean {
  return atomicDispatch.get(rt) === false;
}

let bound: { rt: Runtime; leaseMs: number } | undefined;
let lazy: Promise<{ rt: Runtime; leaseMs: number }> | undefined;
const owner = newOwnerId();

/** The runtime queue jobs use in this process (workflow:work and serve bind theirs). */
export function bindQueueRuntime(rt: Runtime, leaseMs: number): void {
  registerQueueHandlers();
  bound = { rt, leaseMs };
  freeDeadLeases(rt, leaseMs);
}

/** Leases of dead processes on this host are freed at once, as a workflow worker does at start. */
function freeDeadLeases(rt: Runtime, leaseMs: number): void {
  try {
    new Worker(rt.engine, { concurrency: 1, leaseMs, pollMs: 1000 }).releaseDeadOwners();
  } catch (err) {
    rt.engine.opts.log?.warn(`workflow: cannot release stale leases: ${errorMessage(err)}`);
  }
}

/**
 * A plain `queue:work` process never built a workflow runtime: build one from the same config
 * (-c/--conf or SECURELY_CONF, as the CLI resolved it) on first use.
 */
async function runtimeForJobs(): Promise<{ rt: Runtime; leaseMs: number }> {
  if (bound) return bound;
  lazy ??= (async () => {
    const { workflowModule } = await import("../index.ts");
    const { openRuntime } = await import("../runtime.ts");
    const g = splitGlobals(process.argv.slice(2), process.env);
    const app = new App({ modules: [queueModule, workflowModule], configPath: g.conf, env: process.env, logLevel: g.logLevel });
    const rt = await openRuntime(app, { loadCode: true });
    const leaseMs = app.config.get<number>("workflow.lease_seconds") * 1000;
    freeDeadLeases(rt, leaseMs);
    return { rt, leaseMs };
  })();
  return lazy;
}

/** Put the job back until a lease held elsewhere ends (that holder may have died). */
function retryAfterLease(ctx: JobContext, leaseUntil: number | null, now: number): void {
  if (leaseUntil !== null && leaseUntil >= now) ctx.release(Math.max(0.05, (leaseUntil - now) / 1000 + 0.05));
}

async function runTaskJob(payload: { run_id: string }, ctx: JobContext): Promise<void> {
  await runDueRun(payload.run_id, ctx);
}

/** Replay a run if it is due; if someone else holds it, come back when their lease ends. */
async function runDueRun(runId: string, ctx: JobContext): Promise<void> {
  const { rt, leaseMs } = await runtimeForJobs();
  const e = rt.engine;
  const now = e.now();
  const runs = e.store.tx(() => e.runs.claimDue(owner, now, leaseMs, 1, runId));
  if (runs.length === 0) {
    const r = e.runs.get(runId);
    if (r?.status === "running" && r.wake_at !== null && r.wake_at <= now) retryAfterLease(ctx, r.lease_until, now);
    return;
  }
  await e.runWorkflowTasks(runs);
  workflowMetrics.workflowTasks.inc();
}

async function runActivityJob(payload: { task_id: number; run_id: string }, ctx: JobContext): Promise<void> {
  const { rt, leaseMs } = await runtimeForJobs();
  const e = rt.engine;
  const tasks = e.activities as SqliteActivityQueue;
  const now = e.now();
  const task = tasks.claimOne(payload.task_id, owner, now, leaseMs);
  if (!task) {
    const t = tasks.leaseEnd(payload.task_id);
    if (t) {
      if (t.available_at <= now) retryAfterLease(ctx, t.lease_until, now);
      return; // or a retry is scheduled, with its own job
    }
    // done: its result is recorded, but this job may be the rerun of one that died before the
    // run's workflow task ran (see below) — make sure the run moves on
    return runDueRun(payload.run_id, ctx);
  }
  const extender = setInterval(() => {
    try {
      e.store.tx(() => tasks.extend(task, e.now() + leaseMs));
    } catch {}
  }, Math.max(50, leaseMs / 3));
  let res;
  try {
    res = await runAttempt(task, e.registry.activity(task.name), {
      workflowName: e.runs.head(task.runId)?.name ?? "?",
      stopSignal: ctx.signal,
      log: (m, ...a) => e.opts.log?.info(`[${task.runId} ${task.name}#${task.attempt}] ${m}`, ...a),
      heartbeat: (details) => e.store.tx(() => tasks.extend(task, e.now() + leaseMs, details)),
    });
  } finally {
    clearInterval(extender);
  }
  if (ctx.signal.aborted) return; // the queue worker stopped hard: the lease runs out, the job runs again
  if (!res.ok) {
    const d = e.failActivity(task, res.error);
    workflowMetrics.activities.inc({ outcome: d.final ? "failed" : "retried" });
    return;
  }
  workflowMetrics.activities.inc({ outcome: "completed" });
  // Record the result and take the run in one transaction, then replay it here: one job per step
  // instead of two. The wake-up job is not pushed; if this process dies before the replay
  // commits, this job runs again (it is acked only after), finds the task gone, and replays.
  const claimed = e.store.tx(() => {
    const onDue = e.runs.onDue;
    e.runs.onDue = undefined;
    try {
      e.completeActivity(task, res.value);
    } finally {
      e.runs.onDue = onDue;
    }
    const runs = e.runs.claimDue(owner, e.now(), leaseMs, 1, task.runId);
    const r = runs.length ? undefined : e.runs.get(task.runId);
    if (r?.status === "running" && r.wake_at !== null) onDue?.(task.runId, r.wake_at); // held elsewhere: wake it the usual way
    return runs;
  });
  if (claimed.length) {
    await e.runWorkflowTasks(claimed);
    workflowMetrics.workflowTasks.inc();
  }
}

let registered = false;

/** Register the workflow.task / workflow.activity queue handlers (once per process). */
export function registerQueueHandlers(): void {
  if (registered) return;
  registered = true;
  registerHandler(TASK_JOB, { tries: JOB_TRIES, timeout: 0, handle: runTaskJob });
  registerHandler(ACTIVITY_JOB, { tries: JOB_TRIES, timeout: 0, handle: runActivityJob });
}

/**
 * Processes that may run queue jobs (queue:work, serve) register the handlers at start, so a plain
 * `queue:work` runs workflow jobs; other commands register them only when their runtime uses the
 * queue — the handlers stay out of `unknown handler … (known: …)` lists where they mean nothing.
 */
const command = (() => {
  try {
    return splitGlobals(process.argv.slice(2), process.env).argv[0];
  } catch {
    return undefined;
  }
})();
if (command === "queue:work" || command === "serve") registerQueueHandlers();
