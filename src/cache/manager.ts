/**
 * Laravel's CacheManager: store name → driver factory, one Repository per store per App, and
 * `extendCache()` for drivers a module adds. "Cache store [x] is not defined." for a bad name.
 */
import type { App } from "../core/app.ts";
import { MemoryStore } from "./drivers/memory.ts";
import { NullStore } from "./drivers/null.ts";
import { RedisStore } from "./drivers/redis.ts";
import { SqliteStore } from "./drivers/sqlite.ts";
import type { CacheOptions } from "./config.ts";
import { CacheError } from "./errors.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { Repository } from "./repository.ts";
import type { CacheStore } from "./types.ts";

export type StoreFactory = (app: App, opts: CacheOptions) => CacheStore;

const factories = new Map<string, StoreFactory>([
  ["sqlite", (app, o) => new SqliteStore(app.store(), app.clock, o.prefix)],
  ["memory", (app, o) => new MemoryStore(app.clock, { maxEntries: o.memory.max_entries, maxBytes: o.memory.max_bytes })],
  ["redis", (app, o) => new RedisStore(app.clock, { url: o.redis.url, prefix: o.redis.prefix })],
  ["null", () => new NullStore()],
]);

/** Register a custom driver (Laravel's Cache::extend). */
export function extendCache(name: string, factory: StoreFactory): void {
  factories.set(name, factory);
}

const perApp = new WeakMap<App, Map<string, Repository>>();

export function cacheOptions(app: App): CacheOptions {
  return app.config.get<CacheOptions>("cache");
}

/** The Repository for `store` (default: `cache.store` from config), created once per App. */
export function cache(app: App, store?: string): Repository {
  const opts = cacheOptions(app);
  const name = store ?? opts.store;
  let repos = perApp.get(app);
  if (!repos) perApp.set(app, (repos = new Map()));
  let repo = repos.get(name);
  if (!repo) {
    const factory = factories.get(name);
    if (!factory) throw CacheError.unknownStore(name, [...factories.keys()]);
    repo = new Repository(factory(app, opts), { clock: app.clock, lockPollMs: opts.lock_poll * 1000 });
    repos.set(name, repo);
  }
  return repo;
}

/** A RateLimiter over the default (or named) store. */
export function rateLimiter(app: App, store?: string): RateLimiter {
  return new RateLimiter(cache(app, store));
}

/** Close every Repository opened for this App (flushes hit counters, closes Redis connections). */
export async function closeCache(app: App): Promise<void> {
  const repos = perApp.get(app);
  perApp.delete(app);
  if (repos) await Promise.allSettled([...repos.values()].map((r) => r.close()));
}
