/** The `cache:` config section. Every key has a default, so an empty section means "sqlite in the store". */
import { obj, val } from "../core/config/schema.ts";

export const DRIVERS = ["sqlite", "memory", "redis", "null"] as const;
export type DriverName = (typeof DRIVERS)[number];

export const cacheConfig = obj({
  store: val(`in:${DRIVERS.join(",")}`, "sqlite", "Default store: sqlite (rows in the shared store file), memory (per process), redis, null (caches nothing)."),
  prefix: val("string", "", "Prepended to every key of the sqlite and memory stores (Laravel's cache.prefix)."),
  prune_interval: val("duration", 60, "How often `serve` deletes expired sqlite rows, in seconds; 0 turns the background prune off."),
  lock_poll: val("duration", 0.25, "How often lock.block() retries, in seconds (Laravel: 250 ms)."),
  memory: obj({
    max_entries: val("integer|min:1", 10000, "Most entries the memory store keeps; the least recently used go first."),
    max_bytes: val("integer|min:1", 64 * 1024 * 1024, "Most value bytes the memory store keeps."),
  }),
  redis: obj({
    url: val("string", "redis://127.0.0.1:6379", "Redis server URL (redis://[:password@]host:port[/db], rediss:// for TLS).", { secret: true }),
    prefix: val("string", "securely:cache:", "Prepended to every Redis key, so installations can share a server; flush removes only these."),
  }),
});

export interface CacheOptions {
  store: DriverName;
  prefix: string;
  prune_interval: number;
  lock_poll: number;
  memory: { max_entries: number; max_bytes: number };
  redis: { url: string; prefix: string };
}
