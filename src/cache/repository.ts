/**
 * The API module code uses (Laravel's Cache Repository) over any CacheStore: get/many/has/put/add/
 * remember/flexible/pull/increment, tags, locks and hit counting. TTLs are seconds (fractions
 * allowed) or a Date; `null`/omitted means forever; a TTL ≤ 0 forgets the key, as in Laravel.
 * A cached `null` counts as missing for has() and remember(), as in Laravel.
 */
import { createHash, randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../core/clock.ts";
import { metrics } from "../core/metrics/registry.ts";
import { Lock } from "./lock.ts";
import type { CacheStore, CacheValue, StoreStats, Ttl } from "./types.ts";

const hitsTotal = metrics.counter("securely_cache_hits_total", "Cache reads that found a value, by store.");
const missesTotal = metrics.counter("securely_cache_misses_total", "Cache reads that found nothing, by store.");
const writesTotal = metrics.counter("securely_cache_writes_total", "Cache writes, by store.");

export interface RepositoryOptions {
  clock?: Clock;
  /** How often lock.block() retries, in ms. @default 250 (Laravel's) */
  lockPollMs?: number;
  /** How often hit/miss counts are written to the store, in ms. @default 5000 */
  statsFlushMs?: number;
}

type Default<T> = T | (() => T);

export class Repository {
  readonly clock: Clock;
  private hits = 0;
  private misses = 0;
  private writes = 0;
  private flushTimer?: ReturnType<typeof setInterval>;
  private lockPollMs: number;
  /** Refreshes started by flexible(), so tests and shutdown can await them. */
  readonly pending = new Set<Promise<unknown>>();

  constructor(readonly store: CacheStore, opts: RepositoryOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.lockPollMs = opts.lockPollMs ?? 250;
    const every = opts.statsFlushMs ?? 5000;
    if (every > 0) {
      this.flushTimer = setInterval(() => void this.flushStats().catch(() => {}), every);
      (this.flushTimer as any).unref?.();
    }
  }

  /** Absolute expiry in ms for a TTL; null = forever; a number ≤ now means "do not store". */
  expiresAt(ttl: Ttl | undefined): number | null {
    if (ttl === null || ttl === undefined) return null;
    if (ttl instanceof Date) return ttl.getTime();
    return this.clock.now() + ttl * 1000;
  }

  private expired(at: number | null): boolean {
    return at !== null && at <= this.clock.now();
  }

  // counted in plain fields and flushed to metrics and the store in batches: a labelled counter
  // update per read would cost more than the SQLite read itself
  private count(hit: boolean): void {
    if (hit) this.hits++;
    else this.misses++;
  }

  /** The value, or `fallback` (called if it is a function) when missing. */
  async get<T = CacheValue>(key: string, fallback?: Default<T>): Promise<T | null> {
    const v = await this.store.get(key);
    this.count(v !== undefined && v !== null);
    if (v === undefined || v === null) return resolveDefault(fallback) ?? null;
    return v as T;
  }

  /** Values for several keys at once; missing ones are null. */
  async many(keys: string[]): Promise<Record<string, CacheValue>> {
    const values = await this.store.many(keys);
    const out: Record<string, CacheValue> = {};
    keys.forEach((k, i) => {
      const v = values[i];
      this.count(v !== undefined && v !== null);
      out[k] = v ?? null;
    });
    return out;
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== null;
  }

  async missing(key: string): Promise<boolean> {
    return !(await this.has(key));
  }

  /** Store a value; true when stored (false when the TTL is already over and the key was forgotten). */
  async put(key: string, value: CacheValue, ttl?: Ttl): Promise<boolean> {
    const at = this.expiresAt(ttl);
    if (this.expired(at)) {
      await this.store.forget(key);
      return false;
    }
    await this.store.put(key, value, at);
    this.writes++;
    return true;
  }

  async putMany(values: Record<string, CacheValue>, ttl?: Ttl): Promise<boolean> {
    const at = this.expiresAt(ttl);
    if (this.expired(at)) {
      for (const k of Object.keys(values)) await this.store.forget(k);
      return false;
    }
    await this.store.putMany(Object.entries(values), at);
    this.writes += Object.keys(values).length;
    return true;
  }

  /** Store only if missing; atomic across processes on shared stores. */
  async add(key: string, value: CacheValue, ttl?: Ttl): Promise<boolean> {
    const at = this.expiresAt(ttl);
    if (this.expired(at)) return false;
    return this.store.add(key, value, at);
  }

  forever(key: string, value: CacheValue): Promise<boolean> {
    return this.put(key, value, null);
  }

  /** Cached value, or compute it with `fn`, store it for `ttl` and return it. */
  async remember<T extends CacheValue>(key: string, ttl: Ttl, fn: () => T | Promise<T>): Promise<T> {
    const v = await this.get<T>(key);
    if (v !== null) return v;
    const fresh = await fn();
    await this.put(key, fresh, ttl);
    return fresh;
  }

  rememberForever<T extends CacheValue>(key: string, fn: () => T | Promise<T>): Promise<T> {
    return this.remember(key, null, fn);
  }

  /** Laravel's alias of rememberForever. */
  sear<T extends CacheValue>(key: string, fn: () => T | Promise<T>): Promise<T> {
    return this.rememberForever(key, fn);
  }

  /**
   * Stale-while-revalidate: younger than `fresh` s → cached value; between `fresh` and `stale` s →
   * cached value now, recomputed in the background under a lock (one refresher across processes);
   * older (or missing) → computed now. Laravel's `flexible(key, [fresh, stale], fn)`.
   */
  async flexible<T extends CacheValue>(key: string, [fresh, stale]: [number, number], fn: () => T | Promise<T>): Promise<T> {
    const createdKey = `illuminate:cache:flexible:created:${key}`;
    const got = await this.many([key, createdKey]);
    const value = got[key] as T | null;
    const created = got[createdKey] as number | null;
    const store = async () => {
      const v = await fn();
      await this.putMany({ [key]: v, [createdKey]: this.clock.now() }, stale);
      return v;
    };
    const age = created === null ? Infinity : this.clock.now() - created;
    if (value === null || age >= stale * 1000) return store();
    if (age < fresh * 1000) return value;
    const refresh = this.lock(`illuminate:cache:flexible:lock:${key}`, Math.max(1, stale - fresh))
      .get(async () => {
        // another process may have refreshed while we were deciding
        const again = (await this.store.get(createdKey)) as number | undefined;
        if (again === undefined || this.clock.now() - again >= fresh * 1000) await store();
      })
      .catch(() => {}) // a failed background refresh leaves the stale value in place
      .finally(() => this.pending.delete(refresh));
    this.pending.add(refresh);
    return value;
  }

  /** Get and forget. */
  async pull<T = CacheValue>(key: string, fallback?: Default<T>): Promise<T | null> {
    const v = await this.get<T>(key, fallback);
    await this.store.forget(key);
    return v;
  }

  forget(key: string): Promise<boolean> {
    return this.store.forget(key);
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Atomically add `by`; a missing key starts at 0. Returns the new value (false on the null store). */
  increment(key: string, by = 1): Promise<number | false> {
    return this.store.increment(key, by);
  }

  decrement(key: string, by = 1): Promise<number | false> {
    return this.store.increment(key, -by);
  }

  /** Give an existing key a new TTL (Laravel's touch); false when it is missing. A TTL ≤ 0 forgets it. */
  async touch(key: string, ttl?: Ttl): Promise<boolean> {
    const at = this.expiresAt(ttl);
    if (this.expired(at)) return this.store.forget(key);
    return this.store.touch(key, at);
  }

  /** Seconds left before `key` expires; null for forever, undefined when missing. */
  async ttl(key: string): Promise<number | null | undefined> {
    const ms = await this.store.ttl(key);
    return ms === null || ms === undefined ? ms : ms / 1000;
  }

  /** A lock named `name` held for `seconds` once acquired (0: until released). */
  lock(name: string, seconds = 0, owner?: string): Lock {
    return new Lock(this.store, name, seconds, owner, this.clock, this.lockPollMs);
  }

  /** The lock `name` as held by `owner` (another process's token), to release it. */
  restoreLock(name: string, owner: string): Lock {
    return this.lock(name, 0, owner);
  }

  /** A view where every key is scoped by `names`; flushing a tag drops every entry stored under it. */
  tags(...names: (string | string[])[]): TaggedCache {
    return new TaggedCache(this, names.flat());
  }

  /** Drop every entry stored under any of these tags (without knowing the keys). */
  async flushTags(names: string[]): Promise<void> {
    await this.store.putMany(names.map((t) => [tagKey(t), newTagId()]), null);
  }

  prune(): Promise<number> {
    return this.store.prune();
  }

  async stats(): Promise<StoreStats & { hit_ratio: number | null }> {
    await this.flushStats();
    const s = await this.store.stats();
    const total = s.hits + s.misses;
    return { ...s, hit_ratio: total ? s.hits / total : null };
  }

  /** Write the batched counts to metrics and the store (shared stores make `cache:stats` see every process). */
  async flushStats(): Promise<void> {
    const [h, m, w] = [this.hits, this.misses, this.writes];
    this.hits = this.misses = this.writes = 0;
    const labels = { store: this.store.driver };
    if (h) hitsTotal.inc(labels, h);
    if (m) missesTotal.inc(labels, m);
    if (w) writesTotal.inc(labels, w);
    await this.store.recordHits(h, m);
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    await Promise.allSettled([...this.pending]);
    await this.flushStats().catch(() => {});
    await this.store.close();
  }
}

function resolveDefault<T>(d: Default<T> | undefined): T | undefined {
  return typeof d === "function" ? (d as () => T)() : d;
}

const tagKey = (name: string) => `tag:${name}:key`;
const newTagId = () => randomBytes(9).toString("base64url");

/**
 * Tagged view (Laravel's TaggedCache over a TagSet): each tag has a random id kept in the store;
 * keys are prefixed with a hash of the ids, so resetting a tag's id orphans every entry under it.
 * Orphans expire on their own TTL (or are removed by `cache:flush`). Works on every driver.
 */
export class TaggedCache {
  constructor(private repo: Repository, readonly names: string[]) {}

  private async namespace(): Promise<string> {
    const store = this.repo.store;
    const ids = await store.many(this.names.map(tagKey));
    const parts: string[] = [];
    for (let i = 0; i < this.names.length; i++) {
      let id = ids[i] as string | undefined;
      if (id === undefined) {
        const fresh = newTagId();
        // add() so two processes creating the same tag agree on one id
        id = (await store.add(tagKey(this.names[i]!), fresh, null)) ? fresh : ((await store.get(tagKey(this.names[i]!))) as string) ?? fresh;
      }
      parts.push(id);
    }
    return "tagged:" + createHash("sha1").update(parts.join("|")).digest("hex") + ":";
  }

  async key(key: string): Promise<string> {
    return (await this.namespace()) + key;
  }

  async get<T = CacheValue>(key: string, fallback?: Default<T>): Promise<T | null> {
    return this.repo.get(await this.key(key), fallback);
  }
  async has(key: string): Promise<boolean> {
    return this.repo.has(await this.key(key));
  }
  async put(key: string, value: CacheValue, ttl?: Ttl): Promise<boolean> {
    return this.repo.put(await this.key(key), value, ttl);
  }
  async add(key: string, value: CacheValue, ttl?: Ttl): Promise<boolean> {
    return this.repo.add(await this.key(key), value, ttl);
  }
  async forever(key: string, value: CacheValue): Promise<boolean> {
    return this.repo.forever(await this.key(key), value);
  }
  async remember<T extends CacheValue>(key: string, ttl: Ttl, fn: () => T | Promise<T>): Promise<T> {
    return this.repo.remember(await this.key(key), ttl, fn);
  }
  async pull<T = CacheValue>(key: string, fallback?: Default<T>): Promise<T | null> {
    return this.repo.pull(await this.key(key), fallback);
  }
  async forget(key: string): Promise<boolean> {
    return this.repo.forget(await this.key(key));
  }
  async increment(key: string, by = 1): Promise<number | false> {
    return this.repo.increment(await this.key(key), by);
  }
  async decrement(key: string, by = 1): Promise<number | false> {
    return this.repo.decrement(await this.key(key), by);
  }
  /** Drop every entry stored under any of these tags. */
  flush(): Promise<void> {
    return this.repo.flushTags(this.names);
  }
}
