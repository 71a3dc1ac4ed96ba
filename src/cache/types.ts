/**
 * Cache contracts, Laravel-style: a `CacheStore` is the small driver interface (one file per
 * driver in drivers/), the `Repository` (repository.ts) builds the rich API on top of any store.
 * Times are seconds at the API (as in Laravel) and absolute epoch milliseconds inside stores.
 */

/** Any JSON value, or binary bytes. `undefined` is never stored. */
export type CacheValue = null | boolean | number | string | CacheValue[] | { [key: string]: CacheValue } | Uint8Array;

/** The driver interface every store implements; the contract suite runs each through the same tests. */
export interface CacheStore {
  /** Driver name: "sqlite", "memory", "redis", "null". */
  readonly driver: string;
  /** Whether locks and increments hold across processes (false for memory and null). */
  readonly shared: boolean;

  /** The stored value, or undefined when missing or expired (an expired entry is never returned). */
  get(key: string): Promise<CacheValue | undefined>;
  /** Values in the order of `keys`; undefined for each miss. */
  many(keys: string[]): Promise<(CacheValue | undefined)[]>;
  /** Store `value`; `expiresAt` is epoch ms, null for forever. */
  put(key: string, value: CacheValue, expiresAt: number | null): Promise<void>;
  putMany(entries: [string, CacheValue][], expiresAt: number | null): Promise<void>;
  /** Store only if missing (or expired); atomic across processes for shared stores. */
  add(key: string, value: CacheValue, expiresAt: number | null): Promise<boolean>;
  /**
   * Add `by` to a numeric value atomically and return the new value; a missing key starts at 0
   * with no expiry (as Redis INCRBY does); the expiry of an existing key is kept.
   * Throws CacheError.notNumeric for a non-numeric value; the null store returns false.
   */
  increment(key: string, by: number): Promise<number | false>;
  /** Remove the key; true when something was removed. */
  forget(key: string): Promise<boolean>;
  /** Remove every cache entry and lock of this store (its prefix only, on Redis). */
  flush(): Promise<void>;
  /** Give a live key a new expiry (null: forever); false when it is missing or expired. */
  touch(key: string, expiresAt: number | null): Promise<boolean>;
  /** Remaining lifetime in ms, null for forever, undefined when missing. */
  ttl(key: string): Promise<number | null | undefined>;

  /** Acquire `name` for `owner` until `expiresAt` (null: until released); false if held by someone else. */
  acquireLock(name: string, owner: string, expiresAt: number | null): Promise<boolean>;
  /** Release if `owner` holds it; true when released. */
  releaseLock(name: string, owner: string): Promise<boolean>;
  /** Release whoever holds it. */
  forceReleaseLock(name: string): Promise<void>;
  /** Current owner token, or undefined when free (or expired). */
  lockOwner(name: string): Promise<string | undefined>;
  /** Extend a lock `owner` holds; false when it no longer holds it. */
  refreshLock(name: string, owner: string, expiresAt: number | null): Promise<boolean>;

  /** Delete expired entries and locks; returns how many rows went. */
  prune(): Promise<number>;
  /** Entry count and stored bytes (values only), plus persisted hit/miss counters. */
  stats(): Promise<StoreStats>;
  /** Add to the persisted hit/miss counters (the Repository batches these). */
  recordHits(hits: number, misses: number): Promise<void>;
  close(): Promise<void>;
}

export interface StoreStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  locks: number;
}

/** Seconds (fractions allowed), a Date, or null for forever — what Laravel's `$ttl` accepts. */
export type Ttl = number | Date | null;
