/**
 * The programmatic door: `openQueue(app)` validates jobs (handler known, payload JSON, options in
 * range) before anything is written, then hands them to the configured driver. Used by
 * `queue:push`, the scheduler (scheduled jobs) and the workflow engine (its tasks).
 */
import type { App } from "../core/app.ts";
import { driverFor } from "./drivers/index.ts";
import { QueueError } from "./errors.ts";
import { checkHandler } from "./handlers/resolve.ts";
import type { BatchRow, BatchSpec, JobSpec, QueueDriver } from "./types.ts";

const QUEUE_NAME = /^[A-Za-z0-9_.:-]+$/;

export type PushOptions = Omit<JobSpec, "handler" | "payload">;

export interface Queue {
  readonly driver: QueueDriver;
  /** Push one job; resolves (committed) with its id, or null when a unique key skipped it. */
  push(handler: string, payload?: unknown, opts?: PushOptions): Promise<number | null>;
  /** Push many jobs in one transaction: all or none. */
  pushMany(jobs: JobSpec[]): Promise<(number | null)[]>;
  /** Run jobs one after another; a failure stops the chain and pushes `catch`. Returns the first job's id. */
  chain(jobs: JobSpec[], opts?: { catch?: JobSpec }): Promise<number | null>;
  /** A set of jobs with then/catch/finally jobs (Laravel Bus::batch). */
  batch(spec: BatchSpec): Promise<{ id: string; jobIds: (number | null)[] }>;
  findBatch(id: string): Promise<BatchRow | null>;
  cancelBatch(id: string): Promise<boolean>;
}

/** What a bulk validation has already checked (handler names, the default queue). */
interface Memo {
  handlers: Set<string>;
  defaultQueue?: string;
}

/** Check one job spec; throws QueueError naming `where` and the problem. Returns it normalised. */
export function validateJob(app: App, spec: JobSpec, where: string, memo: Memo = { handlers: new Set() }): JobSpec {
  if (!spec || typeof spec !== "object") throw QueueError.badJob(where, "a job must be an object with a handler");
  if (typeof spec.handler !== "string" || !spec.handler) throw QueueError.badJob(where, "handler is required");
  if (!memo.handlers.has(spec.handler)) {
    checkHandler(app, spec.handler);
    memo.handlers.add(spec.handler);
  }
  try {
    if (spec.payload !== undefined && JSON.stringify(spec.payload) === undefined) throw new Error("not a JSON value");
  } catch (err) {
    throw QueueError.badJob(where, `payload is not JSON-serialisable (${(err as Error).message})`);
  }
  const num = (k: keyof JobSpec, min: number, integer = false) => {
    const v = spec[k];
    if (v === undefined) return;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw QueueError.badJob(where, `${k} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got ${JSON.stringify(v)}`);
    }
  };
  num("delay", 0);
  num("tries", 1, true);
  num("timeout", 0);
  num("uniqueFor", 0);
  if (spec.priority !== undefined && !Number.isInteger(spec.priority)) throw QueueError.badJob(where, `priority must be an integer, got ${JSON.stringify(spec.priority)}`);
  if (spec.backoff !== undefined && (!Array.isArray(spec.backoff) || spec.backoff.some((b) => typeof b !== "number" || !(b >= 0)))) {
    throw QueueError.badJob(where, `backoff must be a list of seconds ≥ 0, got ${JSON.stringify(spec.backoff)}`);
  }
  if (spec.uniqueFor !== undefined && !spec.uniqueKey) throw QueueError.badJob(where, "uniqueFor needs uniqueKey");
  const queue = spec.queue ?? (memo.defaultQueue ??= app.config.get<string>("queue.default_queue") ?? "default");
  if (typeof queue !== "string" || (queue !== memo.defaultQueue && !QUEUE_NAME.test(queue))) throw QueueError.badJob(where, `queue name ${JSON.stringify(queue)} must be letters, digits, _ . : -`);
  const out: JobSpec = { ...spec, queue };
  if (spec.chain) out.chain = spec.chain.map((j, i) => validateJob(app, j, `${where} chain[${i}]`, memo));
  if (spec.catch) out.catch = validateJob(app, spec.catch, `${where} catch`, memo);
  return out;
}

export function openQueue(app: App): Queue {
  const driver = driverFor(app);
  const now = () => app.clock.now();
  return {
    driver,
    async push(handler, payload, opts = {}) {
      const [id] = await driver.push([validateJob(app, { ...opts, handler, payload }, "job")], now());
      return id ?? null;
    },
    async pushMany(jobs) {
      const memo: Memo = { handlers: new Set() };
      const valid = jobs.map((j, i) => validateJob(app, j, `job ${i + 1}`, memo));
      return valid.length ? driver.push(valid, now()) : [];
    },
    async chain(jobs, opts = {}) {
      if (jobs.length === 0) throw QueueError.badJob("chain", "needs at least one job");
      const [first, ...rest] = jobs;
      const [id] = await driver.push([validateJob(app, { ...first!, chain: [...(first!.chain ?? []), ...rest], catch: opts.catch ?? first!.catch }, "chain")], now());
      return id ?? null;
    },
    async batch(spec) {
      if (!spec.jobs?.length) throw QueueError.badJob("batch", "needs at least one job");
      const valid: BatchSpec = {
        ...spec,
        jobs: spec.jobs.map((j, i) => validateJob(app, j, `batch job ${i + 1}`)),
        then: spec.then && validateJob(app, spec.then, "batch then"),
        catch: spec.catch && validateJob(app, spec.catch, "batch catch"),
        finally: spec.finally && validateJob(app, spec.finally, "batch finally"),
      };
      return driver.createBatch(valid, now());
    },
    findBatch: (id) => driver.batch(id),
    cancelBatch: (id) => driver.cancelBatch(id, now()),
  };
}
