/**
 * A per-process store: a Map kept in least-recently-used order (a hit moves the key to the end),
 * bounded by entry count and bytes. Values are kept encoded, so a caller editing a returned object
 * never edits the cached one. Locks and increments are atomic within this process only.
 */
import type { Clock } from "../../core/clock.ts";
import { CacheError } from "../errors.ts";
import { decode, encode, encodedSize, type Encoded } from "../serialize.ts";
import type { CacheStore, CacheValue, StoreStats } from "../types.ts";

interface Entry {
  raw: Encoded;
  expiresAt: number | null;
  size: number;
}

export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first. @default 10000 */
  maxEntries?: number;
  /** Most value bytes kept. @default 64 MiB */
  maxBytes?: number;
}

export class MemoryStore implements CacheStore {
  readonly driver = "memory";
  readonly shared = false;
  private entries = new Map<string, Entry>();
  private locks = new Map<string, { owner: string; expiresAt: number | null }>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private maxEntries: number;
  private maxBytes: number;

  constructor(private clock: Clock, opts: MemoryStoreOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  }

  private live(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt !== null && e.expiresAt <= this.clock.now()) {
      this.remove(key, e);
      return undefined;
    }
    return e;
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.size;
  }

  private set(key: string, raw: Encoded, expiresAt: number | null): void {
    const old = this.entries.get(key);
    if (old) this.remove(key, old);
    const size = encodedSize(raw) + key.length;
    this.entries.set(key, { raw, expiresAt, size });
    this.bytes += size;
    // evict from the front of the Map: its insertion order is the LRU order
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      if (k === key && this.entries.size === 1) break; // a single oversized value still fits alone
      this.remove(k, e);
    }
  }

  async get(key: string): Promise<CacheValue | undefined> {
    return this.getSync(key);
  }

  getSync(key: string): CacheValue | undefined {
    const e = this.live(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return decode(typeof e.raw === "string" ? e.raw : new Uint8Array(e.raw));
  }

  async many(keys: string[]): Promise<(CacheValue | undefined)[]> {
    return keys.map((k) => this.getSync(k));
  }

  async put(key: string, value: CacheValue, expiresAt: number | null): Promise<void> {
    this.set(key, encode(key, value), expiresAt);
  }

  async putMany(entries: [string, CacheValue][], expiresAt: number | null): Promise<void> {
    const encoded = entries.map(([k, v]) => [k, encode(k, v)] as const);
    for (const [k, raw] of encoded) this.set(k, raw, expiresAt);
  }

  async add(key: string, value: CacheValue, expiresAt: number | null): Promise<boolean> {
    if (this.live(key)) return false;
    this.set(key, encode(key, value), expiresAt);
    return true;
  }

  async increment(key: string, by: number): Promise<number> {
    const e = this.live(key);
    if (!e) {
      this.set(key, JSON.stringify(by), null);
      return by;
    }
    let current: unknown;
    try {
      current = typeof e.raw === "string" ? JSON.parse(e.raw) : undefined;
    } catch {}
    if (typeof current !== "number") throw CacheError.notNumeric(key);
    this.set(key, JSON.stringify(current + by), e.expiresAt);
    return current + by;
  }

  async forget(key: string): Promise<boolean> {
    const e = this.entries.get(key);
    if (!e) return false;
    this.remove(key, e);
    return true;
  }

  async flush(): Promise<void> {
    this.entries.clear();
    this.locks.clear();
    this.bytes = 0;
  }

  async touch(key: string, expiresAt: number | null): Promise<boolean> {
    const e = this.live(key);
    if (!e) return false;
    e.expiresAt = expiresAt;
    return true;
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const e = this.live(key);
    if (!e) return undefined;
    return e.expiresAt === null ? null : e.expiresAt - this.clock.now();
  }

  private lockLive(name: string) {
    const l = this.locks.get(name);
    if (l && l.expiresAt !== null && l.expiresAt <= this.clock.now()) {
      this.locks.delete(name);
      return undefined;
    }
    return l;
  }

  async acquireLock(name: string, owner: string, expiresAt: number | null): Promise<boolean> {
    if (this.lockLive(name)) return false;
    this.locks.set(name, { owner, expiresAt });
    return true;
  }

  async releaseLock(name: string, owner: string): Promise<boolean> {
    if (this.lockLive(name)?.owner !== owner) return false;
    this.locks.delete(name);
    return true;
  }

  async forceReleaseLock(name: string): Promise<void> {
    this.locks.delete(name);
  }

  async lockOwner(name: string): Promise<string | undefined> {
    return this.lockLive(name)?.owner;
  }

  async refreshLock(name: string, owner: string, expiresAt: number | null): Promise<boolean> {
    const l = this.lockLive(name);
    if (l?.owner !== owner) return false;
    l.expiresAt = expiresAt;
    return true;
  }

  async prune(): Promise<number> {
    let n = 0;
    for (const key of [...this.entries.keys()]) if (this.entries.has(key) && !this.live(key)) n++;
    for (const name of [...this.locks.keys()]) if (!this.lockLive(name)) n++;
    return n;
  }

  async stats(): Promise<StoreStats> {
    await this.prune();
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses, locks: this.locks.size };
  }

  async recordHits(hits: number, misses: number): Promise<void> {
    this.hits += hits;
    this.misses += misses;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
