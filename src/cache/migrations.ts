/** Tables of the sqlite cache store (Laravel's `cache` and `cache_locks`, with ms expirations). */
import type { Migration } from "../core/store/migrations.ts";

export const cacheMigrations: Migration[] = [
  {
    namespace: "cache",
    version: 1,
    description: "cache entries, locks and hit counters",
    up: `
      CREATE TABLE cache_entries (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL,         -- no affinity: TEXT stays JSON, BLOB stays bytes
        expiration INTEGER           -- epoch ms; NULL = forever
      ) WITHOUT ROWID;
      CREATE INDEX cache_entries_expiration ON cache_entries (expiration) WHERE expiration IS NOT NULL;
      CREATE TABLE cache_locks (
        key TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expiration INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE cache_stats (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        hits INTEGER NOT NULL DEFAULT 0,
        misses INTEGER NOT NULL DEFAULT 0
      );`,
  },
  {
    namespace: "cache",
    version: 2,
    // every put moves an entry's expiration, so the index cost ~3× on writes; prune() now walks
    // the table in key-ordered chunks instead (measured in docs/benchmarks-cache.md)
    description: "drop the expiration index (faster puts; prune scans in chunks)",
    up: `DROP INDEX IF EXISTS cache_entries_expiration`,
  },
];
