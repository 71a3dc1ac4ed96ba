/**
 * The SQLite driver: the store file is the queue (Laravel's `database` driver, plus a lease).
 * Claims and acks are batched — one BEGIN IMMEDIATE transaction claims up to N jobs, another
 * settles every finished attempt — because a transaction per job is the bottleneck of peers.
 * Idle workers watch `PRAGMA data_version` (moves when another connection commits) instead of
 * sleeping, so a push from another process is picked up within a millisecond or so.
 */
import type { Database, Statement } from "bun:sqlite";
import type { Store } from "../../core/store/store.ts";
import type { BatchRow, BatchSpec, FailedRow, JobRow, JobSpec, JobStatus, Outcome, QueueDriver, QueueStats, ReservedJob } from "../types.ts";

interface ChainInfo {
  chain?: JobSpec[];
  catch?: JobSpec;
}

/** From this many jobs on, a push goes through the one-statement JSON path. */
const BULK_MIN = 8;

const RESERVE_COLS = "id, queue, handler, payload, attempts, tries, backoff, timeout, batch_id, created_at";

export class SqliteQueueDriver implements QueueDriver {
  readonly name = "sqlite";
  private db: Database;
  private s: Record<string, Statement>;
  private waiters = new Set<() => void>();
  /** How often an idle worker checks data_version (ms). */
  pollMs = 1;

  constructor(private store: Store) {
    this.db = store.db;
    const p = (sql: string) => this.db.prepare(sql);
    this.s = {
      insert: p(`INSERT INTO queue_jobs (queue, handler, payload, priority, visible_at, created_at, tries, backoff, timeout, unique_key, chain, batch_id, attempts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`),
      insertBulk: p(`INSERT INTO queue_jobs (queue, handler, payload, priority, visible_at, created_at, tries, backoff, timeout, chain, batch_id, attempts)
                     SELECT value->>'q', value->>'h', value->'p', coalesce(value->>'pr', 0), ?2 + coalesce(value->>'d', 0), ?2,
                            value->>'t', value->>'b', value->>'to', value->>'c', value->>'bid', 0
                     FROM json_each(?1)`),
      uniqueGet: p(`SELECT u.job_id, u.expires_at, j.id AS live FROM queue_unique u LEFT JOIN queue_jobs j ON j.id = u.job_id WHERE u.key = ?1`),
      uniquePut: p(`INSERT OR REPLACE INTO queue_unique (key, job_id, expires_at) VALUES (?1, ?2, ?3)`),
      uniqueDel: p(`DELETE FROM queue_unique WHERE key = ?1 AND job_id = ?2`),
      paused: p(`SELECT queue FROM queue_paused`),
      claim: p(`UPDATE queue_jobs SET attempts = attempts + 1, reserved_at = ?2, visible_at = ?3
                WHERE id IN (SELECT id FROM queue_jobs WHERE queue = ?1 AND visible_at <= ?2 ORDER BY priority DESC, visible_at LIMIT ?4)
                RETURNING ${RESERVE_COLS}`),
      ack: p(`DELETE FROM queue_jobs WHERE id = ?1 AND attempts = ?2 RETURNING queue, unique_key, chain, batch_id`),
      release: p(`UPDATE queue_jobs SET visible_at = ?3, reserved_at = NULL WHERE id = ?1 AND attempts = ?2`),
      takeFailed: p(`DELETE FROM queue_jobs WHERE id = ?1 AND attempts = ?2 RETURNING *`),
      insertFailed: p(`INSERT INTO queue_failed (uuid, job_id, queue, handler, payload, attempts, options, exception, output, failed_at)
                       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`),
      extend: p(`UPDATE queue_jobs SET visible_at = ?3 WHERE id = ?1 AND attempts = ?2 AND reserved_at IS NOT NULL`),
      throughput: p(`INSERT INTO queue_throughput (queue, minute, done, failed) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(queue, minute) DO UPDATE SET done = done + ?3, failed = failed + ?4`),
      nextVisible: p(`SELECT MIN(visible_at) AS t FROM queue_jobs WHERE queue = ?1`),
      batchDone: p(`UPDATE queue_batches SET pending = pending - 1, finished_at = CASE WHEN pending = 1 THEN ?2 END
                    WHERE id = ?1 RETURNING pending, failed, options, cancelled_at`),
      batchFail: p(`UPDATE queue_batches SET pending = pending - 1, failed = failed + 1, failed_ids = json_insert(failed_ids, '$[#]', ?3),
                    finished_at = CASE WHEN pending = 1 THEN ?2 END WHERE id = ?1 RETURNING pending, failed, options, cancelled_at`),
      batchCancel: p(`UPDATE queue_batches SET cancelled_at = ?2 WHERE id = ?1 AND cancelled_at IS NULL`),
      dataVersion: p(`PRAGMA data_version`),
    };
  }

  async push(jobs: JobSpec[], now: number): Promise<(number | null)[]> {
    const ids = this.store.tx(() => (jobs.length >= BULK_MIN && !jobs.some((j) => j.uniqueKey) ? this.insertBulk(jobs, now) : jobs.map((j) => this.insert(j, now))));
    this.notify();
    return ids;
  }

  /**
   * Many jobs in one statement: the array goes to SQLite as one JSON text and json_each unpacks
   * it in C — about 3× faster than a prepared INSERT per row. Row ids are consecutive because
   * we hold the write lock (BEGIN IMMEDIATE) and rowids grow from the current maximum.
   */
  private insertBulk(jobs: JobSpec[], now: number): number[] {
    const rows = jobs.map((j) => ({
      q: j.queue ?? "default", h: j.handler, p: j.payload ?? null, pr: j.priority || undefined, d: j.delay ? Math.round(j.delay * 1000) : undefined,
      t: j.tries, b: j.backoff ? JSON.stringify(j.backoff) : undefined, to: j.timeout, bid: j.batchId,
      c: j.chain?.length || j.catch ? JSON.stringify({ chain: j.chain, catch: j.catch } satisfies ChainInfo) : undefined,
    }));
    const res = this.s.insertBulk!.run(JSON.stringify(rows), now);
    const last = Number(res.lastInsertRowid);
    return jobs.map((_, i) => last - jobs.length + 1 + i);
  }

  /** Insert one job inside the caller's transaction; null when a live unique lock skips it. */
  private insert(j: JobSpec, now: number, attempts = 0): number | null {
    if (j.uniqueKey) {
      const u = this.s.uniqueGet!.get(j.uniqueKey) as { job_id: number; expires_at: number | null; live: number | null } | null;
      if (u && (u.expires_at === null ? u.live !== null : u.expires_at > now)) return null;
    }
    const chain = j.chain?.length || j.catch ? JSON.stringify({ chain: j.chain, catch: j.catch } satisfies ChainInfo) : null;
    const res = this.s.insert!.run(
      j.queue ?? "default",
      j.handler,
      JSON.stringify(j.payload ?? null),
      j.priority ?? 0,
      now + Math.round((j.delay ?? 0) * 1000),
      now,
      j.tries ?? null,
      j.backoff ? JSON.stringify(j.backoff) : null,
      j.timeout ?? null,
      j.uniqueKey ?? null,
      chain,
      j.batchId ?? null,
      attempts,
    );
    const id = Number(res.lastInsertRowid);
    if (j.uniqueKey) this.s.uniquePut!.run(j.uniqueKey, id, j.uniqueFor ? now + j.uniqueFor * 1000 : null);
    return id;
  }

  async reserve(queues: string[], limit: number, now: number, leaseMs: number): Promise<ReservedJob[]> {
    return this.store.tx(() => this.reserveIn(queues, limit, now, leaseMs));
  }

  async cycle(outcomes: Outcome[], queues: string[], limit: number, now: number, leaseMs: number): Promise<ReservedJob[]> {
    if (limit <= 0) return this.settle(outcomes, now).then(() => []);
    let pushed = 0;
    const jobs = this.store.tx(() => {
      pushed = this.settleIn(outcomes, now);
      return this.reserveIn(queues, limit, now, leaseMs);
    });
    if (pushed) this.notify();
    return jobs;
  }

  private reserveIn(queues: string[], limit: number, now: number, leaseMs: number): ReservedJob[] {
    {
      const paused = new Set((this.s.paused!.all() as { queue: string }[]).map((r) => r.queue));
      const out: ReservedJob[] = [];
      for (const q of queues) {
        if (paused.has(q) || out.length >= limit) continue;
        const rows = this.s.claim!.all(q, now, now + leaseMs, limit - out.length) as any[];
        rows.sort((a, b) => a.id - b.id);
        for (const r of rows) out.push(toReserved(r, now + leaseMs));
      }
      return out;
    }
  }

  async settle(outcomes: Outcome[], now: number): Promise<void> {
    if (outcomes.length === 0) return;
    const pushed = this.store.tx(() => this.settleIn(outcomes, now));
    if (pushed) this.notify();
  }

  /** Apply outcomes inside the caller's transaction; returns how many follow-up jobs were pushed. */
  private settleIn(outcomes: Outcome[], now: number): number {
    {
      let followups = 0;
      const counts = new Map<string, [number, number]>();
      const count = (q: string, i: 0 | 1) => {
        const c = counts.get(q) ?? [0, 0];
        c[i]++;
        counts.set(q, c);
      };
      for (const o of outcomes) {
        if (o.kind === "release") {
          this.s.release!.run(o.id, o.attempts, now + o.delayMs);
        } else if (o.kind === "done") {
          const r = this.s.ack!.get(o.id, o.attempts) as { queue: string; unique_key: string | null; chain: string | null; batch_id: string | null } | null;
          if (!r) continue; // lease lost: another worker owns this attempt now
          count(r.queue, 0);
          if (r.unique_key) this.s.uniqueDel!.run(r.unique_key, o.id);
          if (r.chain) {
            const c = JSON.parse(r.chain) as ChainInfo;
            const [next, ...rest] = c.chain ?? [];
            if (next) followups += Number(this.insert({ ...next, chain: [...(next.chain ?? []), ...rest], catch: next.catch ?? c.catch }, now) !== null);
          }
          if (r.batch_id) followups += this.batchStep(r.batch_id, o.id, false, now);
        } else {
          const r = this.s.takeFailed!.get(o.id, o.attempts) as any;
          if (!r) continue;
          count(r.queue, 1);
          const options = JSON.stringify({ tries: r.tries, backoff: r.backoff ? JSON.parse(r.backoff) : undefined, timeout: r.timeout, priority: r.priority, chain: r.chain ? JSON.parse(r.chain) : undefined, batchId: r.batch_id ?? undefined });
          this.s.insertFailed!.run(crypto.randomUUID(), r.id, r.queue, r.handler, r.payload, r.attempts, options, o.reason, o.output ?? null, now);
          if (r.unique_key) this.s.uniqueDel!.run(r.unique_key, o.id);
          if (r.chain) {
            const c = JSON.parse(r.chain) as ChainInfo;
            if (c.catch) followups += Number(this.insert(c.catch, now) !== null);
          }
          if (r.batch_id) followups += this.batchStep(r.batch_id, o.id, true, now);
        }
      }
      const minute = Math.floor(now / 60_000);
      for (const [q, [d, f]] of counts) this.s.throughput!.run(q, minute, d, f);
      return followups;
    }
  }

  /** Count one finished batch job; push then/catch/finally jobs as Laravel's Bus batch does. */
  private batchStep(batchId: string, jobId: number, failed: boolean, now: number): number {
    const r = (failed ? this.s.batchFail!.get(batchId, now, jobId) : this.s.batchDone!.get(batchId, now)) as
      | { pending: number; failed: number; options: string; cancelled_at: number | null }
      | null;
    if (!r) return 0;
    const opts = JSON.parse(r.options) as { then?: JobSpec; catch?: JobSpec; finally?: JobSpec; allowFailures?: boolean };
    let n = 0;
    const push = (j?: JobSpec) => j && (n += Number(this.insert(j, now) !== null));
    if (failed && r.failed === 1) {
      push(opts.catch);
      if (!opts.allowFailures) this.s.batchCancel!.run(batchId, now);
    }
    if (r.pending === 0) {
      if (r.failed === 0) push(opts.then);
      push(opts.finally);
    }
    return n;
  }

  async extend(jobs: { id: number; attempts: number }[], until: number): Promise<void> {
    if (jobs.length === 0) return;
    this.store.tx(() => {
      for (const j of jobs) this.s.extend!.run(j.id, j.attempts, until);
    });
  }

  async waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    const start = this.dataVersion();
    const end = Date.now() + ms;
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener("abort", done);
      const tick = () => {
        let v: number;
        try {
          v = this.dataVersion();
        } catch {
          return done(); // store closed
        }
        if (v !== start || Date.now() >= end) return done();
        timer = setTimeout(tick, Math.min(this.pollMs, Math.max(0, end - Date.now())));
      };
      timer = setTimeout(tick, this.pollMs);
    });
  }

  /** Wake waiters in this process: our own commits do not move data_version. */
  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private dataVersion(): number {
    return (this.s.dataVersion!.get() as { data_version: number }).data_version;
  }

  async nextVisibleAt(queues: string[]): Promise<number | null> {
    let min: number | null = null;
    for (const q of queues) {
      const t = (this.s.nextVisible!.get(q) as { t: number | null }).t;
      if (t !== null && (min === null || t < min)) min = t;
    }
    return min;
  }

  async list(opts: { queue?: string; status?: JobStatus; limit: number }, now: number): Promise<JobRow[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (opts.queue) where.push(`queue = ?`), params.push(opts.queue);
    if (opts.status === "waiting") where.push(`visible_at <= ?`), params.push(now);
    if (opts.status === "delayed") where.push(`reserved_at IS NULL AND visible_at > ?`), params.push(now);
    if (opts.status === "reserved") where.push(`reserved_at IS NOT NULL AND visible_at > ?`), params.push(now);
    const rows = this.db
      .query(`SELECT id, queue, handler, payload, attempts, priority, visible_at, reserved_at, created_at, batch_id FROM queue_jobs
              ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id LIMIT ?`)
      .all(...params, opts.limit) as any[];
    return rows.map((r) => {
      const status: JobStatus = r.visible_at <= now ? "waiting" : r.reserved_at !== null ? "reserved" : "delayed";
      return {
        id: r.id, queue: r.queue, handler: r.handler, payload: r.payload, attempts: r.attempts, status, priority: r.priority,
        available_at: status === "reserved" ? r.reserved_at : r.visible_at, reserved_until: status === "reserved" ? r.visible_at : null,
        created_at: r.created_at, batch_id: r.batch_id,
      };
    });
  }

  async stats(now: number): Promise<QueueStats[]> {
    const rows = this.db
      .query(`SELECT queue,
                SUM(visible_at <= ?1) AS waiting,
                SUM(reserved_at IS NULL AND visible_at > ?1) AS delayed,
                SUM(reserved_at IS NOT NULL AND visible_at > ?1) AS reserved,
                MIN(CASE WHEN visible_at <= ?1 THEN visible_at END) AS oldest
              FROM queue_jobs GROUP BY queue`)
      .all(now) as any[];
    const failed = new Map((this.db.query(`SELECT queue, COUNT(*) AS n FROM queue_failed GROUP BY queue`).all() as any[]).map((r) => [r.queue, r.n]));
    const paused = new Set(await this.pausedQueues());
    const minute = Math.floor((now - 60_000) / 60_000);
    const tput = new Map((this.db.query(`SELECT queue, SUM(done + failed) AS n FROM queue_throughput WHERE minute >= ?1 GROUP BY queue`).all(minute) as any[]).map((r) => [r.queue, r.n]));
    const names = new Set([...rows.map((r) => r.queue), ...failed.keys(), ...paused, ...tput.keys()]);
    const byQueue = new Map(rows.map((r) => [r.queue, r]));
    return [...names].sort().map((q) => {
      const r = byQueue.get(q);
      return {
        queue: q, waiting: r?.waiting ?? 0, delayed: r?.delayed ?? 0, reserved: r?.reserved ?? 0, failed: failed.get(q) ?? 0,
        paused: paused.has(q), processed_last_minute: tput.get(q) ?? 0,
        oldest_waiting_s: r?.oldest != null ? Math.max(0, (now - r.oldest) / 1000) : null,
      };
    });
  }

  async failed(opts: { queue?: string; limit: number }): Promise<FailedRow[]> {
    const sql = `SELECT id, uuid, job_id, queue, handler, payload, attempts, exception, output, failed_at FROM queue_failed ${opts.queue ? "WHERE queue = ?1" : ""} ORDER BY id LIMIT ${opts.queue ? "?2" : "?1"}`;
    return this.db.query(sql).all(...(opts.queue ? [opts.queue, opts.limit] : [opts.limit])) as FailedRow[];
  }

  async retry(ids: number[] | "all", now: number, queue?: string): Promise<number[]> {
    const out = this.store.tx(() => {
      const rows = (ids === "all"
        ? this.db.query(`SELECT * FROM queue_failed ${queue ? "WHERE queue = ?1" : ""} ORDER BY id`).all(...(queue ? [queue] : []))
        : ids.map((id) => this.db.query(`SELECT * FROM queue_failed WHERE id = ?1`).get(id)).filter(Boolean)) as any[];
      const pushed: number[] = [];
      for (const r of rows) {
        if (queue && r.queue !== queue) continue;
        const o = JSON.parse(r.options ?? "{}");
        const c = o.chain as ChainInfo | undefined;
        this.insert({ queue: r.queue, handler: r.handler, payload: JSON.parse(r.payload), tries: o.tries ?? undefined, backoff: o.backoff, timeout: o.timeout ?? undefined, priority: o.priority, chain: c?.chain, catch: c?.catch }, now);
        this.db.query(`DELETE FROM queue_failed WHERE id = ?1`).run(r.id);
        pushed.push(r.id);
      }
      return pushed;
    });
    if (out.length) this.notify();
    return out;
  }

  async forget(id: number): Promise<boolean> {
    return this.db.query(`DELETE FROM queue_failed WHERE id = ?1`).run(id).changes > 0;
  }

  async flushFailed(olderThanMs: number | undefined, now: number): Promise<number> {
    if (olderThanMs === undefined) return this.db.query(`DELETE FROM queue_failed`).run().changes;
    return this.db.query(`DELETE FROM queue_failed WHERE failed_at <= ?1`).run(now - olderThanMs).changes;
  }

  async clear(queue: string): Promise<number> {
    return this.store.tx(() => {
      this.db.query(`DELETE FROM queue_unique WHERE job_id IN (SELECT id FROM queue_jobs WHERE queue = ?1)`).run(queue);
      return this.db.query(`DELETE FROM queue_jobs WHERE queue = ?1`).run(queue).changes;
    });
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    if (paused) this.db.query(`INSERT OR IGNORE INTO queue_paused (queue, paused_at) VALUES (?1, ?2)`).run(queue, Date.now());
    else this.db.query(`DELETE FROM queue_paused WHERE queue = ?1`).run(queue);
    this.notify();
  }

  async pausedQueues(): Promise<string[]> {
    return (this.s.paused!.all() as { queue: string }[]).map((r) => r.queue);
  }

  async signalRestart(now: number): Promise<void> {
    this.db.query(`INSERT OR REPLACE INTO queue_signals (name, value) VALUES ('restart', ?1)`).run(now);
    this.notify();
  }

  async restartSignal(): Promise<number> {
    return (this.db.query(`SELECT value FROM queue_signals WHERE name = 'restart'`).get() as { value: number } | null)?.value ?? 0;
  }

  async createBatch(spec: BatchSpec, now: number): Promise<{ id: string; jobIds: (number | null)[] }> {
    const id = crypto.randomUUID();
    const jobIds = this.store.tx(() => {
      const options = JSON.stringify({ then: spec.then, catch: spec.catch, finally: spec.finally, allowFailures: spec.allowFailures ?? false });
      this.db.query(`INSERT INTO queue_batches (id, name, total, pending, options, created_at) VALUES (?1, ?2, ?3, ?3, ?4, ?5)`).run(id, spec.name ?? "", spec.jobs.length, options, now);
      const ids = spec.jobs.map((j) => this.insert({ ...j, batchId: id }, now));
      const skipped = ids.filter((x) => x === null).length;
      if (skipped) this.db.query(`UPDATE queue_batches SET total = total - ?2, pending = pending - ?2 WHERE id = ?1`).run(id, skipped);
      return ids;
    });
    this.notify();
    return { id, jobIds };
  }

  async batch(id: string): Promise<BatchRow | null> {
    const r = this.db.query(`SELECT * FROM queue_batches WHERE id = ?1`).get(id) as any;
    if (!r) return null;
    return {
      id: r.id, name: r.name, total: r.total, pending: r.pending, failed: r.failed, failed_ids: JSON.parse(r.failed_ids),
      allow_failures: JSON.parse(r.options).allowFailures ?? false, cancelled_at: r.cancelled_at, created_at: r.created_at, finished_at: r.finished_at,
    };
  }

  async cancelBatch(id: string, now: number): Promise<boolean> {
    return this.s.batchCancel!.run(id, now).changes > 0;
  }

  async acquireLock(key: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const r = this.db
      .query(`INSERT INTO queue_locks (key, owner, expires_at) VALUES (?1, ?2, ?3)
              ON CONFLICT(key) DO UPDATE SET owner = ?2, expires_at = ?3 WHERE expires_at <= ?4 OR owner = ?2`)
      .run(key, owner, now + ttlMs, now);
    return r.changes > 0;
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    this.db.query(`DELETE FROM queue_locks WHERE key = ?1 AND owner = ?2`).run(key, owner);
  }

  async hit(key: string, decayMs: number, now: number): Promise<{ count: number; resetAt: number }> {
    return this.db
      .query(`INSERT INTO queue_limits (key, count, reset_at) VALUES (?1, 1, ?2 + ?3)
              ON CONFLICT(key) DO UPDATE SET count = CASE WHEN reset_at <= ?2 THEN 1 ELSE count + 1 END,
                reset_at = CASE WHEN reset_at <= ?2 THEN ?2 + ?3 ELSE reset_at END
              RETURNING count, reset_at AS resetAt`)
      .get(key, now, decayMs) as { count: number; resetAt: number };
  }

  async hits(key: string, now: number): Promise<{ count: number; resetAt: number }> {
    const r = this.db.query(`SELECT count, reset_at AS resetAt FROM queue_limits WHERE key = ?1 AND reset_at > ?2`).get(key, now) as { count: number; resetAt: number } | null;
    return r ?? { count: 0, resetAt: now };
  }

  async resetHits(key: string): Promise<void> {
    this.db.query(`DELETE FROM queue_limits WHERE key = ?1`).run(key);
  }

  async close(): Promise<void> {
    this.notify();
  }
}

function toReserved(r: any, reservedUntil: number): ReservedJob {
  return {
    id: r.id, queue: r.queue, handler: r.handler, payload: r.payload, attempts: r.attempts, tries: r.tries,
    backoff: r.backoff ? JSON.parse(r.backoff) : null, timeout: r.timeout, batchId: r.batch_id, createdAt: r.created_at, reservedUntil,
  };
}
