/**
 * The redis driver (Bun's built-in RedisClient): the same semantics as sqlite for workers spread
 * over several machines. Every state change is one Lua script (atomic on the server); idle
 * workers wake on a pub/sub message published by pushes and follow-ups, with the lease/delay
 * timer and `--sleep` as the fallback.
 */
import { RedisClient } from "bun";
import { SecurelyError } from "../../core/errors.ts";
import type { BatchRow, BatchSpec, FailedRow, JobRecord, JobRow, JobSpec, JobStatus, Outcome, QueueDriver, QueueStats, ReservedJob } from "../types.ts";
import * as lua from "./redis-scripts.ts";

/** The job as the Lua scripts store it: payload and chain links pre-encoded as JSON text. */
interface StoredJob {
  queue: string;
  handler: string;
  payload: string;
  priority?: number;
  delayMs?: number;
  tries?: number;
  backoff?: string;
  timeout?: number;
  uniqueKey?: string;
  uniqueForMs?: number;
  batchId?: string;
  next?: string;
  catch?: string;
}

export function toStored(j: JobSpec, inheritedCatch?: JobSpec): StoredJob {
  const [next, ...rest] = j.chain ?? [];
  const katch = j.catch ?? inheritedCatch;
  return {
    queue: j.queue ?? "default",
    handler: j.handler,
    payload: JSON.stringify(j.payload ?? null),
    priority: j.priority || undefined,
    delayMs: j.delay ? j.delay * 1000 : undefined,
    tries: j.tries,
    backoff: j.backoff ? JSON.stringify(j.backoff) : undefined,
    timeout: j.timeout,
    uniqueKey: j.uniqueKey,
    uniqueForMs: j.uniqueFor ? j.uniqueFor * 1000 : undefined,
    batchId: j.batchId,
    next: next ? JSON.stringify(toStored({ ...next, chain: [...(next.chain ?? []), ...rest] }, katch)) : undefined,
    catch: katch ? JSON.stringify(toStored(katch)) : undefined,
  };
}

export class RedisQueueDriver implements QueueDriver {
  readonly name = "redis";
  private client: RedisClient;
  private sub?: RedisClient;
  private shas = new Map<string, string>();
  private waiters = new Set<() => void>();
  private readonly prefix: string;
  private readonly url: string;

  constructor(opts: { url: string; prefix: string }) {
    this.url = opts.url;
    this.prefix = opts.prefix;
    this.client = new RedisClient(opts.url, { autoReconnect: true, enableOfflineQueue: true });
  }

  /** EVALSHA with a one-time SCRIPT LOAD (NOSCRIPT after a server restart reloads). */
  private async run(script: string, args: (string | number)[]): Promise<any> {
    const argv = ["1", this.prefix, ...args.map(String)];
    let sha = this.shas.get(script);
    try {
      if (!sha) {
        sha = (await this.client.send("SCRIPT", ["LOAD", script])) as string;
        this.shas.set(script, sha);
      }
      return await this.client.send("EVALSHA", [sha, ...argv]);
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      if (/NOSCRIPT/.test(msg)) {
        this.shas.delete(script);
        return this.run(script, args);
      }
      throw new SecurelyError(`queue redis ${this.url}: ${msg}`, { hint: "check queue.redis.url and that redis-server is running" });
    }
  }

  private key(k: string): string {
    return this.prefix + k;
  }

  async push(jobs: JobSpec[], now: number): Promise<(number | null)[]> {
    const ids = (await this.run(lua.PUSH, [now, JSON.stringify(jobs.map((j) => toStored(j)))])) as number[];
    this.notify();
    return ids.map((id) => (id === -1 ? null : id));
  }

  async reserve(queues: string[], limit: number, now: number, leaseMs: number): Promise<ReservedJob[]> {
    if (limit <= 0 || queues.length === 0) return [];
    const rows = (await this.run(lua.RESERVE, [now, now + leaseMs, limit, ...queues])) as any[][];
    return rows.map((r) => ({
      id: Number(r[0]), attempts: Number(r[1]), queue: r[2], handler: r[3], payload: r[4],
      tries: r[5] ? Number(r[5]) : null, backoff: r[6] ? JSON.parse(r[6]) : null, timeout: r[7] ? Number(r[7]) : null,
      batchId: r[8] || null, createdAt: Number(r[9]), reservedUntil: now + leaseMs,
    }));
  }

  async settle(outcomes: Outcome[], now: number): Promise<void> {
    if (outcomes.length === 0) return;
    const withUuid = outcomes.map((o) => (o.kind === "fail" ? { ...o, uuid: crypto.randomUUID() } : o));
    await this.run(lua.SETTLE, [now, JSON.stringify(withUuid)]);
  }

  async cycle(outcomes: Outcome[], queues: string[], limit: number, now: number, leaseMs: number): Promise<ReservedJob[]> {
    // one after the other: if the ack fails, nothing is claimed that the worker would lose track of
    await this.settle(outcomes, now);
    return this.reserve(queues, limit, now, leaseMs);
  }

  async extend(jobs: { id: number; attempts: number }[], until: number): Promise<void> {
    if (jobs.length === 0) return;
    await this.run(lua.EXTEND, [0, until, ...jobs.flatMap((j) => [j.id, j.attempts])]);
  }

  async waitForChange(ms: number, signal?: AbortSignal): Promise<void> {
    await this.subscribe();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener("abort", done);
    });
  }

  private async subscribe(): Promise<void> {
    if (this.sub) return;
    this.sub = new RedisClient(this.url, { autoReconnect: true });
    await this.sub.subscribe(this.key("events"), () => this.notify());
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  async nextVisibleAt(queues: string[]): Promise<number | null> {
    const r = await this.run(lua.NEXT_VISIBLE, [0, ...queues]);
    return r === null || r === undefined ? null : Number(r);
  }

  private async scan(queue?: string): Promise<any[][]> {
    return (await this.run(lua.SCAN, [0, queue ?? ""])) as any[][];
  }

  async list(opts: { queue?: string; status?: JobStatus; limit: number }, now: number): Promise<JobRow[]> {
    const rows: JobRow[] = (await this.scan(opts.queue)).map((r) => {
      const visible = Number(r[6]);
      const reservedAt = r[7] ? Number(r[7]) : null;
      const status: JobStatus = visible <= now ? "waiting" : reservedAt !== null ? "reserved" : "delayed";
      return {
        id: Number(r[0]), queue: r[1], handler: r[2], payload: r[3], attempts: Number(r[4]), status, priority: Number(r[5]),
        available_at: status === "reserved" ? reservedAt! : visible, reserved_until: status === "reserved" ? visible : null,
        created_at: Number(r[8]), batch_id: r[9] || null,
      };
    });
    return rows.filter((r) => !opts.status || r.status === opts.status).sort((a, b) => a.id - b.id).slice(0, opts.limit);
  }

  async stats(now: number): Promise<QueueStats[]> {
    const jobs = await this.list({ limit: Number.MAX_SAFE_INTEGER }, now);
    const failed = await this.failed({ limit: Number.MAX_SAFE_INTEGER });
    const paused = new Set(await this.pausedQueues());
    const queues = new Set<string>([...((await this.client.send("SMEMBERS", [this.key("queues")])) as string[]), ...failed.map((f) => f.queue), ...paused]);
    const minute = Math.floor(now / 60_000);
    const out: QueueStats[] = [];
    for (const q of [...queues].sort()) {
      const mine = jobs.filter((j) => j.queue === q);
      const waiting = mine.filter((j) => j.status === "waiting");
      let processed = 0;
      for (const m of [minute - 1, minute]) {
        const h = (await this.client.send("HMGET", [this.key(`tput:${q}:${m}`), "done", "failed"])) as (string | null)[];
        processed += Number(h[0] ?? 0) + Number(h[1] ?? 0);
      }
      const s: QueueStats = {
        queue: q, waiting: waiting.length, delayed: mine.filter((j) => j.status === "delayed").length, reserved: mine.filter((j) => j.status === "reserved").length,
        failed: failed.filter((f) => f.queue === q).length, paused: paused.has(q), processed_last_minute: processed,
        oldest_waiting_s: waiting.length ? Math.max(0, (now - Math.min(...waiting.map((j) => j.available_at))) / 1000) : null,
      };
      if (s.waiting || s.delayed || s.reserved || s.failed || s.paused || s.processed_last_minute) out.push(s);
    }
    return out;
  }

  async failed(opts: { queue?: string; limit: number }): Promise<FailedRow[]> {
    const ids = (await this.client.send("ZRANGE", [this.key("failed"), "0", "-1"])) as string[];
    const out: FailedRow[] = [];
    for (const fid of ids) {
      if (out.length >= opts.limit) break;
      const f = (await this.client.send("HGETALL", [this.key(`failed:${fid}`)])) as Record<string, string> | string[];
      const h = Array.isArray(f) ? Object.fromEntries(f.flatMap((_, i) => (i % 2 ? [] : [[f[i], f[i + 1]]]))) : f;
      if (!h.queue || (opts.queue && h.queue !== opts.queue)) continue;
      out.push({
        id: Number(fid), uuid: h.uuid!, job_id: Number(h.job_id), queue: h.queue, handler: h.handler!, payload: h.payload!,
        attempts: Number(h.attempts), exception: h.exception!, output: h.output ?? null, failed_at: Number(h.failed_at),
      });
    }
    return out;
  }

  private async hash(key: string): Promise<Record<string, string>> {
    const h = (await this.client.send("HGETALL", [this.key(key)])) as Record<string, string> | string[] | null;
    if (!h) return {};
    return Array.isArray(h) ? Object.fromEntries(h.flatMap((_, i) => (i % 2 ? [] : [[h[i], h[i + 1]]]))) : h;
  }

  async findJob(id: number, now: number): Promise<JobRecord | null> {
    const j = await this.hash(`job:${id}`);
    if (j.queue) {
      const visible = Number(j.visible_at);
      const status: JobStatus = visible <= now ? "waiting" : j.reserved_at ? "reserved" : "delayed";
      return { id, status, queue: j.queue, handler: j.handler!, payload: j.payload!, attempts: Number(j.attempts), output: null, exception: null, finished_at: null };
    }
    const d = await this.hash(`done:${id}`);
    if (d.queue) return { id, status: "done", queue: d.queue, handler: d.handler!, payload: d.payload!, attempts: Number(d.attempts), output: d.output ?? null, exception: null, finished_at: Number(d.finished_at) };
    const f = (await this.failed({ limit: Number.MAX_SAFE_INTEGER })).filter((x) => x.job_id === id).pop();
    if (f) return { id, status: "failed", queue: f.queue, handler: f.handler, payload: f.payload, attempts: f.attempts, output: f.output, exception: f.exception, finished_at: f.failed_at };
    return null;
  }

  async retry(ids: number[] | "all", now: number, queue?: string): Promise<number[]> {
    const r = (await this.run(lua.RETRY, [now, queue ?? "", ...(ids === "all" ? ["all"] : ids)])) as number[];
    if (r.length) this.notify();
    return r.map(Number);
  }

  async forget(id: number): Promise<boolean> {
    const n = (await this.client.send("ZREM", [this.key("failed"), String(id)])) as number;
    await this.client.send("DEL", [this.key(`failed:${id}`)]);
    return n > 0;
  }

  async flushFailed(olderThanMs: number | undefined, now: number): Promise<number> {
    let n = 0;
    for (const f of await this.failed({ limit: Number.MAX_SAFE_INTEGER })) {
      if (olderThanMs !== undefined && f.failed_at > now - olderThanMs) continue;
      if (await this.forget(f.id)) n++;
    }
    return n;
  }

  async clear(queue: string): Promise<number> {
    return Number(await this.run(lua.CLEAR, [0, queue]));
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    await this.client.send(paused ? "SADD" : "SREM", [this.key("paused"), queue]);
    await this.client.send("PUBLISH", [this.key("events"), "1"]);
    this.notify();
  }

  async pausedQueues(): Promise<string[]> {
    return ((await this.client.send("SMEMBERS", [this.key("paused")])) as string[]).sort();
  }

  async signalRestart(now: number): Promise<void> {
    await this.client.send("SET", [this.key("restart"), String(now)]);
    await this.client.send("PUBLISH", [this.key("events"), "1"]);
  }

  async restartSignal(): Promise<number> {
    return Number((await this.client.send("GET", [this.key("restart")])) ?? 0);
  }

  async createBatch(spec: BatchSpec, now: number): Promise<{ id: string; jobIds: (number | null)[] }> {
    const id = crypto.randomUUID();
    const enc = (j?: JobSpec) => (j ? JSON.stringify(toStored(j)) : undefined);
    const body = { name: spec.name ?? "", allowFailures: spec.allowFailures ?? false, jobs: spec.jobs.map((j) => toStored({ ...j, batchId: id })), then: enc(spec.then), catch: enc(spec.catch), finally: enc(spec.finally) };
    const ids = (await this.run(lua.CREATE_BATCH, [now, id, JSON.stringify(body)])) as number[];
    this.notify();
    return { id, jobIds: ids.map((x) => (x === -1 ? null : x)) };
  }

  async batch(id: string): Promise<BatchRow | null> {
    const h = (await this.client.send("HGETALL", [this.key(`batch:${id}`)])) as Record<string, string>;
    if (!h || !h.total) return null;
    const failedIds = ((await this.client.send("LRANGE", [this.key(`batch:${id}:failed`), "0", "-1"])) as string[]).map(Number);
    return {
      id, name: h.name ?? "", total: Number(h.total), pending: Number(h.pending), failed: Number(h.failed), failed_ids: failedIds,
      allow_failures: h.allow_failures === "1", cancelled_at: h.cancelled_at ? Number(h.cancelled_at) : null,
      created_at: Number(h.created_at), finished_at: h.finished_at ? Number(h.finished_at) : null,
    };
  }

  async cancelBatch(id: string, now: number): Promise<boolean> {
    const k = this.key(`batch:${id}`);
    if (!(await this.client.send("EXISTS", [k]))) return false;
    return Boolean(await this.client.send("HSETNX", [k, "cancelled_at", String(now)]));
  }

  async acquireLock(key: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return Number(await this.run(lua.LOCK, [now, key, owner, Math.max(1, Math.round(ttlMs))])) === 1;
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    await this.run(lua.UNLOCK, [0, key, owner]);
  }

  async hit(key: string, decayMs: number, now: number): Promise<{ count: number; resetAt: number }> {
    const [count, resetAt] = (await this.run(lua.HIT, [now, key, decayMs])) as [number, string];
    return { count: Number(count), resetAt: Number(resetAt) };
  }

  async hits(key: string, now: number): Promise<{ count: number; resetAt: number }> {
    const h = (await this.client.send("HMGET", [this.key(`limit:${key}`), "count", "reset_at"])) as (string | null)[];
    if (!h[1] || Number(h[1]) <= now) return { count: 0, resetAt: now };
    return { count: Number(h[0]), resetAt: Number(h[1]) };
  }

  async resetHits(key: string): Promise<void> {
    await this.client.send("DEL", [this.key(`limit:${key}`)]);
  }

  async close(): Promise<void> {
    this.notify();
    this.sub?.close();
    this.client.close();
  }
}
