/**
 * @module cache — Laravel's Cache for securely: a Repository (get/put/remember/flexible/
 * increment/tags/locks) over one of four stores (sqlite in the shared store file, memory, redis,
 * null), a RateLimiter, the `cache:*` commands and a background prune under `serve`.
 * Other namespaces import from this file only.
 */
import { defineModule } from "../core/module.ts";
import { cacheDecrement, cacheForget, cacheGet, cacheIncrement, cachePut } from "./commands/entries.ts";
import { cacheClear, cacheFlush, cachePrune, cacheStats } from "./commands/maintenance.ts";
import { cacheConfig } from "./config.ts";
import { cacheOptions } from "./manager.ts";
import { cacheMigrations } from "./migrations.ts";
import { pruneService } from "./service.ts";

export { cache, cacheOptions, closeCache, extendCache, rateLimiter, type StoreFactory } from "./manager.ts";
export { Repository, TaggedCache, type RepositoryOptions } from "./repository.ts";
export { RateLimiter, Limit } from "./rate-limiter.ts";
export { Lock } from "./lock.ts";
export { CacheError } from "./errors.ts";
export { SqliteStore } from "./drivers/sqlite.ts";
export { MemoryStore } from "./drivers/memory.ts";
export { RedisStore } from "./drivers/redis.ts";
export { NullStore } from "./drivers/null.ts";
export type { CacheStore, CacheValue, StoreStats, Ttl } from "./types.ts";
export type { CacheOptions } from "./config.ts";

export const cacheModule = defineModule({
  name: "cache",
  description: "cache store with Laravel's Repository API",
  commands: [cacheGet, cachePut, cacheIncrement, cacheDecrement, cacheForget, cacheFlush, cacheClear, cacheStats, cachePrune],
  config: { cache: cacheConfig },
  migrations: cacheMigrations,
  services(app) {
    const o = cacheOptions(app);
    return o.store === "sqlite" && o.prune_interval > 0 ? [pruneService(app)] : [];
  },
});
