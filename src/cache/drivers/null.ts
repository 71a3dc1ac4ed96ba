/**
 * The null store (Laravel's NullStore): remembers nothing, so every read misses. Locks always
 * succeed (Laravel's NoLock), which keeps code written against locks runnable with caching off.
 */
import type { CacheStore, CacheValue, StoreStats } from "../types.ts";

export class NullStore implements CacheStore {
  readonly driver = "null";
  readonly shared = false;
  async get(): Promise<CacheValue | undefined> {
    return undefined;
  }
  async many(keys: string[]): Promise<(CacheValue | undefined)[]> {
    return keys.map(() => undefined);
  }
  async put(): Promise<void> {}
  async putMany(): Promise<void> {}
  async add(): Promise<boolean> {
    return false;
  }
  async increment(): Promise<false> {
    return false;
  }
  async forget(): Promise<boolean> {
    return false;
  }
  async flush(): Promise<void> {}
  async touch(): Promise<boolean> {
    return false;
  }
  async ttl(): Promise<undefined> {
    return undefined;
  }
  async acquireLock(): Promise<boolean> {
    return true;
  }
  async releaseLock(): Promise<boolean> {
    return true;
  }
  async forceReleaseLock(): Promise<void> {}
  async lockOwner(): Promise<undefined> {
    return undefined;
  }
  async refreshLock(): Promise<boolean> {
    return true;
  }
  async prune(): Promise<number> {
    return 0;
  }
  async stats(): Promise<StoreStats> {
    return { entries: 0, bytes: 0, hits: 0, misses: 0, locks: 0 };
  }
  async recordHits(): Promise<void> {}
  async close(): Promise<void> {}
}
