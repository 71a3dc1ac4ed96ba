/**
 * Queue contracts: what a job is, what a driver must do, what a handler receives.
 * Drivers (sqlite, redis) implement `QueueDriver`; everything above them (push validation,
 * worker, commands) is driver-agnostic, so one contract suite tests both.
 */
import type { ConsolaInstance } from "consola";

/** A job as pushed: a JSON payload addressed to a handler, plus its retry policy. */
export interface JobSpec {
  /** Handler name from config/registry, or inline `shell:CMD`, `http:URL`, `module:PATH`. */
  handler: string;
  /** Any JSON value. */
  payload?: unknown;
  /** Queue name (default `queue.default_queue`). */
  queue?: string;
  /** Seconds before the job becomes available. */
  delay?: number;
  /** Max attempts; unset → the worker's `--tries`. */
  tries?: number;
  /** Seconds before a retry, per attempt (last one repeats); unset → the worker's `--backoff`. */
  backoff?: number[];
  /** Seconds one attempt may run; unset → the worker's `--timeout`. */
  timeout?: number;
  /** Higher runs first within a queue (default 0). */
  priority?: number;
  /** While a job with this key is pending (or for `uniqueFor` seconds), pushes with the same key are skipped. */
  uniqueKey?: string;
  /** Seconds the unique lock lasts at most (default: until the job finishes). */
  uniqueFor?: number;
  /** Jobs to run one after another once this one succeeds. */
  chain?: JobSpec[];
  /** Job pushed when this job (or a later link of its chain) fails for good. */
  catch?: JobSpec;
  /** Batch this job belongs to (set by `pushBatch`). */
  batchId?: string;
}

/** A job claimed by a worker; `attempts` (counted at reservation) is also the lease token. */
export interface ReservedJob {
  id: number;
  queue: string;
  handler: string;
  /** The payload as stored (JSON text). */
  payload: string;
  attempts: number;
  tries: number | null;
  backoff: number[] | null;
  timeout: number | null;
  batchId: string | null;
  createdAt: number;
  /** When the lease ends (ms since epoch). */
  reservedUntil: number;
}

/** What happened to one attempt; drivers apply many of these in one transaction. */
export type Outcome =
  | { id: number; attempts: number; kind: "done"; output?: string }
  | { id: number; attempts: number; kind: "release"; delayMs: number; reason?: string }
  | { id: number; attempts: number; kind: "fail"; reason: string; output?: string };

export type JobStatus = "waiting" | "delayed" | "reserved";

export interface JobRow {
  id: number;
  queue: string;
  handler: string;
  payload: string;
  attempts: number;
  status: JobStatus;
  priority: number;
  available_at: number;
  reserved_until: number | null;
  created_at: number;
  batch_id: string | null;
}

export interface FailedRow {
  id: number;
  uuid: string;
  job_id: number;
  queue: string;
  handler: string;
  payload: string;
  attempts: number;
  exception: string;
  output: string | null;
  failed_at: number;
}

/** One job by id, wherever it is: pending, finished with output (kept a day), or failed. */
export interface JobRecord {
  id: number;
  status: JobStatus | "done" | "failed";
  queue: string;
  handler: string;
  payload: string;
  attempts: number;
  output: string | null;
  exception: string | null;
  /** ms since epoch: when it finished or failed; null while pending. */
  finished_at: number | null;
}

export interface QueueStats {
  queue: string;
  waiting: number;
  delayed: number;
  reserved: number;
  failed: number;
  paused: boolean;
  /** Jobs finished (done + failed) in the last 60 s. */
  processed_last_minute: number;
  /** Age in seconds of the oldest job that is waiting (available, not reserved). */
  oldest_waiting_s: number | null;
}

export interface BatchRow {
  id: string;
  name: string;
  total: number;
  pending: number;
  failed: number;
  failed_ids: number[];
  allow_failures: boolean;
  cancelled_at: number | null;
  created_at: number;
  finished_at: number | null;
}

export interface BatchSpec {
  name?: string;
  jobs: JobSpec[];
  then?: JobSpec;
  catch?: JobSpec;
  finally?: JobSpec;
  allowFailures?: boolean;
}

/** The storage contract. Every method is atomic; `settle` applies all outcomes in one transaction. */
export interface QueueDriver {
  readonly name: string;
  /** Insert jobs atomically (all or none). Returns ids; null where a unique key skipped the job. */
  push(jobs: JobSpec[], now: number): Promise<(number | null)[]>;
  /** Claim up to `limit` visible jobs from `queues` in strict queue order; lease ends at now+leaseMs. */
  reserve(queues: string[], limit: number, now: number, leaseMs: number): Promise<ReservedJob[]>;
  /** Ack / release / fail; outcomes whose lease was lost (attempts changed) are ignored. */
  settle(outcomes: Outcome[], now: number): Promise<void>;
  /** settle + reserve in one transaction (the worker's hot loop). */
  cycle(outcomes: Outcome[], queues: string[], limit: number, now: number, leaseMs: number): Promise<ReservedJob[]>;
  /** Extend the lease of jobs still running. */
  extend(jobs: { id: number; attempts: number }[], until: number): Promise<void>;
  /** Resolves when another process may have changed the queue, or after `ms`. */
  waitForChange(ms: number, signal?: AbortSignal): Promise<void>;
  /** The earliest moment a job in `queues` becomes visible (delayed or leased), if any. */
  nextVisibleAt(queues: string[]): Promise<number | null>;

  list(opts: { queue?: string; status?: JobStatus; limit: number }, now: number): Promise<JobRow[]>;
  stats(now: number): Promise<QueueStats[]>;
  failed(opts: { queue?: string; limit: number }): Promise<FailedRow[]>;
  /** A job by id: pending, done (only when it produced output, for a day) or failed. */
  findJob(id: number, now: number): Promise<JobRecord | null>;
  /** Push failed jobs back (attempts reset). ids "all" = every failed job (of `queue` if given). */
  retry(ids: number[] | "all", now: number, queue?: string): Promise<number[]>;
  forget(id: number): Promise<boolean>;
  /** Delete failed jobs (older than `olderThanMs` when given). Returns how many. */
  flushFailed(olderThanMs: number | undefined, now: number): Promise<number>;
  /** Delete pending jobs of a queue. Returns how many. */
  clear(queue: string): Promise<number>;
  setPaused(queue: string, paused: boolean): Promise<void>;
  pausedQueues(): Promise<string[]>;
  /** Ask running workers to exit after their current job (queue:restart). */
  signalRestart(now: number): Promise<void>;
  restartSignal(): Promise<number>;

  createBatch(spec: BatchSpec, now: number): Promise<{ id: string; jobIds: (number | null)[] }>;
  batch(id: string): Promise<BatchRow | null>;
  cancelBatch(id: string, now: number): Promise<boolean>;

  /** Take a named lock for `ttlMs` (job middleware); false when another owner holds it. */
  acquireLock(key: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLock(key: string, owner: string): Promise<void>;
  /** Count a hit in a fixed window of `decayMs`; returns the count and when the window resets. */
  hit(key: string, decayMs: number, now: number): Promise<{ count: number; resetAt: number }>;
  /** Current count of a window (0 when expired). */
  hits(key: string, now: number): Promise<{ count: number; resetAt: number }>;
  resetHits(key: string): Promise<void>;

  /** Write buffered statistics (a worker calls this when it stops). */
  flush?(): Promise<void>;
  close(): Promise<void>;
}

/** What a handler gets besides the payload. */
export interface JobContext {
  jobId: number;
  /** 1 on the first run. */
  attempt: number;
  queue: string;
  handler: string;
  batchId: string | null;
  /** Put the job back, available again after `delay` seconds; counts the attempt. */
  release(delay?: number): void;
  /** Fail the job for good (no more retries). */
  fail(reason?: string): void;
  /** Aborted when the attempt times out or the worker stops hard. */
  signal: AbortSignal;
  log: ConsolaInstance;
  /** `app.provided.settings` (the settings namespace), if wired. */
  settings: unknown;
  /** `app.provided.cache` (the cache namespace), if wired. */
  cache: unknown;
  /** Push more work from a handler (Laravel's Bus): `ctx.bus.push`, `.chain`, `.batch`, `.findBatch`. */
  bus: import("./queue.ts").Queue;
  /** `app.provided.rateLimiter` (the cache namespace's RateLimiter), if wired; rateLimited counts there. */
  rateLimiter?: JobRateLimiter;
  /** The queue's driver: locks and counters for job middleware. */
  driver: QueueDriver;
  /** Time source (ms). */
  now(): number;
}

/** What job middleware uses of the cache namespace's RateLimiter (Laravel's RateLimiter). */
export interface JobRateLimiter {
  attempts(key: string): Promise<number>;
  /** Count one attempt in a window of `decaySeconds` starting at the first; returns the count. */
  hit(key: string, decaySeconds?: number): Promise<number>;
  tooManyAttempts(key: string, maxAttempts: number): Promise<boolean>;
  /** Seconds until the window of `key` ends. */
  availableIn(key: string): Promise<number>;
  clear(key: string): Promise<void>;
}

export type JobMiddleware = (ctx: JobContext, payload: unknown, next: () => Promise<unknown>) => Promise<unknown>;

/** A handler implemented in TypeScript/JavaScript (module files, or registered in code). */
export interface JobDefinition<P = any> {
  handle(payload: P, ctx: JobContext): unknown | Promise<unknown>;
  tries?: number;
  backoff?: number[] | number;
  timeout?: number;
  middleware?: JobMiddleware[];
}
