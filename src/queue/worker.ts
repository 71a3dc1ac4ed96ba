/**
 * The worker: claims jobs in batches (one transaction settles finished attempts and claims as
 * many jobs as there are free slots), runs up to `concurrency` at once, extends the lease of
 * running jobs, and stops as Laravel's worker does (--max-jobs, --max-time, --memory,
 * --stop-when-empty, --once, queue:restart). Attempts are counted at reservation, so a job whose
 * worker died counts that attempt when it is picked up again after its lease.
 */
import type { App } from "../core/app.ts";
import { errorMessage } from "../core/errors.ts";
import { metrics } from "../core/metrics/registry.ts";
import { driverFor } from "./drivers/index.ts";
import { JobTimeoutError } from "./errors.ts";
import { resolveHandler, type ResolvedHandler } from "./handlers/resolve.ts";
import { backoffFor, parseBackoff } from "./options.ts";
import { openQueue, type Queue } from "./queue.ts";
import type { JobContext, JobRateLimiter, Outcome, QueueDriver, ReservedJob } from "./types.ts";

export interface WorkerOptions {
  /** Strict priority order (default: queue.worker.queues). */
  queues?: string[];
  concurrency?: number;
  /** Longest idle wait, seconds. */
  sleep?: number;
  tries?: number;
  backoff?: number[];
  /** Seconds per attempt; 0 = none. */
  timeout?: number;
  /** Exit after this many jobs (0 = no limit). */
  maxJobs?: number;
  /** Exit after this many seconds (0 = no limit). */
  maxTime?: number;
  /** Exit when the process's RSS exceeds this many MB (0 = no limit, the default; queue:work passes queue.worker.memory). */
  memory?: number;
  stopWhenEmpty?: boolean;
  once?: boolean;
  /** Seconds to rest after each job. */
  rest?: number;
}

export type StopReason = "stopped" | "max-jobs" | "max-time" | "memory" | "empty" | "once" | "restart";

export interface Worker {
  /** Begin the loop; resolves once it runs. */
  start(): Promise<void>;
  /** graceful: let running jobs finish (up to timeoutMs), then settle them; else abandon them. */
  stop(opts?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
  pause(): void;
  resume(): void;
  /** Resolves when the loop has ended, with why. */
  readonly done: Promise<StopReason>;
  status(): { ready: boolean; paused: boolean; running: number; processed: number; failed: number };
}

interface Running {
  job: ReservedJob;
  promise: Promise<void>;
  /** Created lazily, when the handler reads ctx.signal. */
  abort?: AbortController;
  tries: number;
  backoff: number[];
  timeout: number;
  /** ms since epoch; 0 = no timeout. */
  deadline: number;
  /** The outcome is recorded; a late return of the handler is ignored. */
  settled: boolean;
}

function resolveOptions(app: App, o: WorkerOptions) {
  const c = (k: string) => app.config.get<any>(`queue.worker.${k}`);
  return {
    queues: o.queues ?? String(c("queues") ?? "default").split(",").map((q) => q.trim()).filter(Boolean),
    concurrency: o.concurrency ?? c("concurrency") ?? 1,
    sleep: o.sleep ?? c("sleep") ?? 3,
    tries: o.tries ?? c("tries") ?? 1,
    backoff: o.backoff ?? parseBackoff(c("backoff") ?? "0", "queue.worker.backoff"),
    timeout: o.timeout ?? c("timeout") ?? 60,
    maxJobs: o.maxJobs ?? 0,
    maxTime: o.maxTime ?? 0,
    // the process's RSS: queue:work (a process of its own) passes queue.worker.memory; a worker
    // sharing its process (serve, a workflow worker, the API) would stop without freeing anything
    memory: o.memory ?? 0,
    stopWhenEmpty: o.stopWhenEmpty ?? false,
    once: o.once ?? false,
    rest: o.rest ?? c("rest") ?? 0,
    leaseMs: (app.config.get<number>("queue.retry_after") ?? 90) * 1000,
  };
}

/** Context fields read from other namespaces through app.provided (no import edge). */
function provided(app: App, key: "settings" | "cache" | "rateLimiter"): unknown {
  const v = app.provided[key];
  return typeof v === "function" ? (v as (a: App) => unknown)(app) : v;
}

export function createWorker(app: App, options: WorkerOptions = {}): Worker {
  const o = resolveOptions(app, options);
  const driver: QueueDriver = driverFor(app);
  const running = new Map<number, Running>();
  const outcomes: Outcome[] = [];
  const handlers = new Map<string, Promise<ResolvedHandler>>();
  let bus: Queue | undefined;
  const settings = provided(app, "settings");
  const cache = provided(app, "cache");
  const rateLimiter = provided(app, "rateLimiter") as JobRateLimiter | undefined;
  let stopping = false;
  let hardStop = false;
  let paused = false;
  let started = false;
  let processed = 0;
  let failedCount = 0;
  let claimed = 0;
  let reason: StopReason = "stopped";
  let wake: (() => void) | undefined;
  let idleAbort: AbortController | undefined;
  let restartAt = 0;
  let lastRestartCheck = 0;
  let pendingStop: StopReason | undefined;
  let onceWaited = false;
  const startedAt = Date.now();
  let resolveDone!: (r: StopReason) => void;
  const done = new Promise<StopReason>((r) => (resolveDone = r));

  const poke = () => {
    wake?.();
    idleAbort?.abort();
  };

  const resolved = new Map<string, ResolvedHandler>();
  const handlerFor = (name: string): ResolvedHandler | Promise<ResolvedHandler> => {
    const ready = resolved.get(name);
    if (ready) return ready;
    let h = handlers.get(name);
    if (!h) {
      h = resolveHandler(app, name);
      h.then((r) => resolved.set(name, r), () => handlers.delete(name));
      handlers.set(name, h);
    }
    return h;
  };

  // Prometheus counts, added up per cycle (one label lookup per queue and outcome, not per job)
  const jobsTotal = metrics.counter("securely_queue_jobs_total", "Job attempts finished by this process's workers, by queue and outcome (done, release, fail)");
  const runningGauge = metrics.gauge("securely_queue_jobs_running", "Jobs running in this process's workers");
  const tally = new Map<string, number>();
  const flushTally = () => {
    for (const [k, n] of tally) {
      const [queue, outcome] = k.split("\0") as [string, string];
      jobsTotal.inc({ queue, outcome }, n);
    }
    tally.clear();
    runningGauge.set(running.size);
  };

  /** Record an attempt's outcome once (a timed-out attempt that later returns is ignored). */
  const finish = (r: Running, outcome: Outcome) => {
    if (r.settled) return;
    r.settled = true;
    running.delete(r.job.id);
    outcomes.push(outcome);
    const k = r.job.queue + "\0" + outcome.kind;
    tally.set(k, (tally.get(k) ?? 0) + 1);
    processed++;
    if (outcome.kind === "fail") failedCount++;
    poke();
  };

  /** A thrown error (or a timeout): retry after backoff while tries remain, else fail with the reason. */
  const failAttempt = (r: Running, err: unknown, forceFail?: string) => {
    const job = r.job;
    const e = err as Error & { output?: string };
    const why = `${e?.name ?? "Error"}: ${errorMessage(err)}`;
    if (forceFail !== undefined || job.attempts >= r.tries) {
      app.log.warn(`job #${job.id} ${job.handler} failed (attempt ${job.attempts} of ${r.tries}): ${errorMessage(err)}`);
      finish(r, { id: job.id, attempts: job.attempts, kind: "fail", reason: forceFail ?? why, output: e?.output });
    } else {
      const delay = backoffFor(r.backoff, job.attempts);
      app.log.info(`job #${job.id} ${job.handler} attempt ${job.attempts} of ${r.tries} failed, retrying in ${delay}s: ${errorMessage(err)}`);
      finish(r, { id: job.id, attempts: job.attempts, kind: "release", delayMs: delay * 1000, reason: why });
    }
  };

  /**
   * One sweep timer enforces every running job's timeout (no timer per job): the attempt is
   * abandoned — its slot freed, its abort signal fired (a shell handler kills its process group)
   * — and counted as failed.
   */
  const sweepTimeouts = () => {
    const t = Date.now();
    for (const r of [...running.values()]) {
      if (r.deadline && t >= r.deadline && !r.settled) {
        const err = new JobTimeoutError(r.timeout);
        r.abort?.abort(err);
        failAttempt(r, err);
      }
    }
  };

  async function runJob(r: Running): Promise<void> {
    const job = r.job;
    let h: ResolvedHandler;
    try {
      const got = handlerFor(job.handler);
      h = got instanceof Promise ? await got : got;
    } catch (err) {
      return finish(r, { id: job.id, attempts: job.attempts, kind: "fail", reason: errorMessage(err) });
    }
    r.tries = job.tries ?? h.tries ?? o.tries;
    r.backoff = job.backoff ?? h.backoff ?? o.backoff;
    r.timeout = job.timeout ?? h.timeout ?? o.timeout;
    if (job.attempts > r.tries) {
      return finish(r, { id: job.id, attempts: job.attempts, kind: "fail", reason: `MaxAttemptsExceeded: attempted too many times (${job.attempts - 1} of ${r.tries}); its worker may have died mid-job` });
    }
    if (job.batchId) {
      const b = await driver.batch(job.batchId);
      if (b?.cancelled_at) return finish(r, { id: job.id, attempts: job.attempts, kind: "done" });
    }
    if (r.timeout > 0) r.deadline = Date.now() + r.timeout * 1000;
    let decided: { kind: "release"; delay: number } | { kind: "fail"; reason: string } | undefined;
    const ctx: JobContext = {
      jobId: job.id,
      attempt: job.attempts,
      queue: job.queue,
      handler: job.handler,
      batchId: job.batchId,
      release: (delay = 0) => void (decided = { kind: "release", delay }),
      fail: (reason = "failed by the handler") => void (decided = { kind: "fail", reason }),
      // created on first use: most handlers never look at it
      get signal() {
        r.abort ??= new AbortController();
        return r.abort.signal;
      },
      log: app.log,
      settings,
      cache,
      get bus() {
        return (bus ??= openQueue(app));
      },
      rateLimiter,
      driver,
      now: () => app.clock.now(),
    };
    try {
      const res = await h.run(job.payload, ctx);
      const d = decided as typeof decided;
      if (d?.kind === "release") return finish(r, { id: job.id, attempts: job.attempts, kind: "release", delayMs: d.delay * 1000 });
      if (d?.kind === "fail") return finish(r, { id: job.id, attempts: job.attempts, kind: "fail", reason: d.reason, output: res?.output ?? undefined });
      finish(r, { id: job.id, attempts: job.attempts, kind: "done", output: res?.output ?? undefined });
    } catch (err) {
      if (r.settled) return; // timed out or abandoned by a hard stop: already accounted for
      const d = decided as typeof decided;
      failAttempt(r, err, d?.kind === "fail" ? d.reason : undefined);
    }
  }

  /** Why the loop should end now, if it should (sticky: once decided, the worker winds down). */
  async function shouldStop(): Promise<StopReason | undefined> {
    if (stopping) return "stopped";
    if (pendingStop) return pendingStop;
    if (o.once && claimed >= 1) pendingStop = "once";
    else if (o.maxJobs && claimed >= o.maxJobs) pendingStop = "max-jobs";
    else if (o.maxTime && Date.now() - startedAt >= o.maxTime * 1000) pendingStop = "max-time";
    else if (Date.now() - lastRestartCheck >= 1000) {
      lastRestartCheck = Date.now();
      if (o.memory && process.memoryUsage.rss() / 1048576 > o.memory) pendingStop = "memory";
      else if ((await driver.restartSignal()) > restartAt) pendingStop = "restart";
    }
    return pendingStop;
  }

  async function loop(): Promise<void> {
    restartAt = await driver.restartSignal();
    lastRestartCheck = Date.now();
    while (true) {
      const stop = running.size === 0 ? await shouldStop() : hardStop ? "stopped" : undefined;
      if (stop) {
        reason = stop;
        break;
      }
      const limit = paused || (await shouldStop()) ? 0 : Math.min(o.concurrency - running.size, o.once ? 1 - claimed : o.maxJobs ? o.maxJobs - claimed : Infinity);
      const batch = outcomes.splice(0);
      if (tally.size) flushTally();
      const resting = o.rest > 0 && batch.length > 0 && limit > 0;
      let jobs: ReservedJob[] = [];
      try {
        // --rest: record what finished, rest, then claim (Laravel sleeps between jobs)
        jobs = limit > 0 && !resting ? await driver.cycle(batch, o.queues, limit, app.clock.now(), o.leaseMs) : (await driver.settle(batch, app.clock.now()), []);
      } catch (err) {
        outcomes.unshift(...batch); // the store was busy or gone: keep the outcomes, try again
        app.log.error(`queue worker: ${errorMessage(err)}`);
        await Bun.sleep(200);
        continue;
      }
      claimed += jobs.length;
      for (const job of jobs) {
        const r: Running = { job, promise: undefined as unknown as Promise<void>, tries: o.tries, backoff: o.backoff, timeout: 0, deadline: 0, settled: false };
        running.set(job.id, r);
        r.promise = runJob(r).catch((err) => {
          app.log.error(`job #${job.id}: ${errorMessage(err)}`);
          finish(r, { id: job.id, attempts: job.attempts, kind: "release", delayMs: 0 });
        });
      }
      if (jobs.length > 0 && running.size < o.concurrency && !paused) continue; // maybe more waiting
      if (resting) {
        await Bun.sleep(o.rest * 1000);
        continue;
      }
      if (outcomes.length > 0) continue;
      if (running.size === 0 && outcomes.length === 0 && jobs.length === 0) {
        if (o.stopWhenEmpty && !paused) {
          reason = "empty";
          break;
        }
        // --once on an empty queue: wait up to --sleep once, look again, then exit (Laravel's runNextJob)
        if (o.once && claimed === 0) {
          if (onceWaited) {
            reason = "once";
            break;
          }
          onceWaited = true;
        }
        lastRestartCheck = 0; // about to idle: look for queue:restart first
        if (await shouldStop()) continue;
        // idle: wait for another process to commit, an in-process push, a delayed job's time, or --sleep
        const next = paused ? null : await driver.nextVisibleAt(o.queues);
        const until = Math.min(o.sleep * 1000, next === null ? Infinity : Math.max(0, next - app.clock.now()));
        idleAbort = new AbortController();
        await driver.waitForChange(Math.max(1, until), idleAbort.signal);
        idleAbort = undefined;
        lastRestartCheck = 0; // a wake-up may be queue:restart: look at once
      } else if (running.size > 0 && outcomes.length === 0) {
        // every slot busy (or no job found while some run): wait for one to finish or a push
        const finished = new Promise<void>((r) => (wake = r));
        if (running.size >= o.concurrency || paused || limit <= 0) await finished;
        else {
          idleAbort = new AbortController();
          await Promise.race([finished, driver.waitForChange(o.sleep * 1000, idleAbort.signal)]);
          idleAbort.abort();
          idleAbort = undefined;
          lastRestartCheck = 0;
        }
        wake = undefined;
        // let every attempt that finished in this tick report before one transaction settles them all
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    flushTally();
    // settle whatever finished while stopping, so nothing done is redone
    if (outcomes.length) await driver.settle(outcomes.splice(0), app.clock.now()).catch(() => {});
    await driver.flush?.().catch(() => {});
  }

  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let sweeper: ReturnType<typeof setInterval> | undefined;

  return {
    done,
    async start() {
      if (started) return;
      started = true;
      // a long job keeps its lease: extend every running job's lease a few times per retry_after
      sweeper = setInterval(sweepTimeouts, 100);
      heartbeat = setInterval(() => {
        const live = [...running.values()].map((r) => ({ id: r.job.id, attempts: r.job.attempts }));
        driver.extend(live, app.clock.now() + o.leaseMs).catch((err) => app.log.warn(`queue worker: lease extension failed: ${errorMessage(err)}`));
      }, Math.max(50, o.leaseMs / 3));
      loop()
        .catch((err) => app.log.error(`queue worker stopped: ${errorMessage(err)}`))
        .finally(() => {
          clearInterval(heartbeat);
          clearInterval(sweeper);
          resolveDone(reason);
        });
    },
    async stop({ graceful = true, timeoutMs = 30_000 } = {}) {
      stopping = true;
      poke();
      if (!started) return void resolveDone("stopped");
      if (graceful) {
        const all = Promise.all([...running.values()].map((r) => r.promise));
        let t: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([all, new Promise((r) => (t = setTimeout(r, timeoutMs)))]);
        clearTimeout(t);
      }
      if (running.size) {
        // still running past the grace period (or a fast stop): abandon; leases expire and they are redone
        hardStop = true;
        for (const r of running.values()) {
          r.settled = true;
          r.abort?.abort(new Error("worker stopped"));
        }
        running.clear();
        poke();
      }
      await done;
    },
    pause() {
      paused = true;
      poke();
    },
    resume() {
      paused = false;
      poke();
    },
    status: () => ({ ready: started && !stopping, paused, running: running.size, processed, failed: failedCount }),
  };
}
