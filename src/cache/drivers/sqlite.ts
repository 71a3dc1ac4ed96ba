/**
 * The default store: rows in the shared SQLite file (Laravel's DatabaseStore). Reads are one
 * indexed SELECT that filters expired rows, so an expired entry is never returned and reads never
 * take the write lock; expired rows are deleted by prune(). Read-modify-write paths run in
 * BEGIN IMMEDIATE transactions, which serialise every process sharing the file.
 */
import type { Statement } from "bun:sqlite";
import type { Clock } from "../../core/clock.ts";
import type { Store } from "../../core/store/store.ts";
import { CacheError } from "../errors.ts";
import { decode, encode, type Encoded } from "../serialize.ts";
import type { CacheStore, CacheValue, StoreStats } from "../types.ts";

/** Keys examined per prune transaction. */
const PRUNE_CHUNK = 5000;

interface Row {
  value: Encoded;
  expiration: number | null;
}

export class SqliteStore implements CacheStore {
  readonly driver = "sqlite";
  readonly shared = true;
  private q: Record<string, Statement>;

  constructor(private store: Store, private clock: Clock, private prefix = "") {
    const db = store.db;
    const live = `(expiration IS NULL OR expiration > ?2)`;
    this.q = {
      get: db.prepare(`SELECT value FROM cache_entries WHERE key = ?1 AND ${live}`),
      row: db.prepare(`SELECT value, expiration FROM cache_entries WHERE key = ?1`),
      put: db.prepare(`INSERT INTO cache_entries (key, value, expiration) VALUES (?1, ?2, ?3)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value, expiration = excluded.expiration`),
      // one statement: insert, or take over a row that has expired — atomic without a transaction
      add: db.prepare(`INSERT INTO cache_entries (key, value, expiration) VALUES (?1, ?2, ?3)
        ON CONFLICT(key) DO UPDATE SET value = excluded.value, expiration = excluded.expiration
        WHERE cache_entries.expiration IS NOT NULL AND cache_entries.expiration <= ?4`),
      setValue: db.prepare(`UPDATE cache_entries SET value = ?2 WHERE key = ?1`),
      forget: db.prepare(`DELETE FROM cache_entries WHERE key = ?1`),
      touch: db.prepare(`UPDATE cache_entries SET expiration = ?2 WHERE key = ?1 AND ${live.replace("?2", "?3")}`),
      ttl: db.prepare(`SELECT expiration FROM cache_entries WHERE key = ?1 AND ${live}`),
      lockAcquire: db.prepare(`INSERT INTO cache_locks (key, owner, expiration) VALUES (?1, ?2, ?3)
        ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expiration = excluded.expiration
        WHERE cache_locks.expiration IS NOT NULL AND cache_locks.expiration <= ?4`),
      lockRelease: db.prepare(`DELETE FROM cache_locks WHERE key = ?1 AND owner = ?2`),
      lockForce: db.prepare(`DELETE FROM cache_locks WHERE key = ?1`),
      lockOwner: db.prepare(`SELECT owner FROM cache_locks WHERE key = ?1 AND ${live}`),
      lockRefresh: db.prepare(`UPDATE cache_locks SET expiration = ?3 WHERE key = ?1 AND owner = ?2 AND (expiration IS NULL OR expiration > ?4)`),
      pruneChunkEnd: db.prepare(`SELECT key FROM cache_entries WHERE key > ?1 ORDER BY key LIMIT 1 OFFSET ${PRUNE_CHUNK - 1}`),
      // two statements, not `?2 IS NULL OR key <= ?2`: an OR would stop SQLite bounding the range scan
      pruneChunk: db.prepare(`DELETE FROM cache_entries WHERE key > ?1 AND key <= ?2 AND expiration IS NOT NULL AND expiration <= ?3`),
      pruneTail: db.prepare(`DELETE FROM cache_entries WHERE key > ?1 AND expiration IS NOT NULL AND expiration <= ?2`),
      pruneLocks: db.prepare(`DELETE FROM cache_locks WHERE expiration IS NOT NULL AND expiration <= ?1`),
      hits: db.prepare(`INSERT INTO cache_stats (id, hits, misses) VALUES (1, ?1, ?2)
        ON CONFLICT(id) DO UPDATE SET hits = hits + ?1, misses = misses + ?2`),
    };
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  async get(key: string): Promise<CacheValue | undefined> {
    return this.getSync(key);
  }

  /** Synchronous read for hot in-process callers (the proxy's rate limits, benches). */
  getSync(key: string): CacheValue | undefined {
    const row = this.q.get!.get(this.k(key), this.clock.now()) as { value: Encoded } | null;
    return row ? decode(row.value) : undefined;
  }

  async many(keys: string[]): Promise<(CacheValue | undefined)[]> {
    return keys.map((k) => this.getSync(k));
  }

  async put(key: string, value: CacheValue, expiresAt: number | null): Promise<void> {
    this.q.put!.run(this.k(key), encode(key, value), expiresAt);
  }

  async putMany(entries: [string, CacheValue][], expiresAt: number | null): Promise<void> {
    const encoded = entries.map(([k, v]) => [this.k(k), encode(k, v)] as const);
    this.store.tx(() => {
      for (const [k, v] of encoded) this.q.put!.run(k, v, expiresAt);
    });
  }

  async add(key: string, value: CacheValue, expiresAt: number | null): Promise<boolean> {
    return this.q.add!.run(this.k(key), encode(key, value), expiresAt, this.clock.now()).changes > 0;
  }

  async increment(key: string, by: number): Promise<number> {
    const k = this.k(key);
    return this.store.tx(() => {
      const row = this.q.row!.get(k) as Row | null;
      if (!row || (row.expiration !== null && row.expiration <= this.clock.now())) {
        this.q.put!.run(k, JSON.stringify(by), null);
        return by;
      }
      const current = typeof row.value === "string" ? safeParse(row.value) : undefined;
      if (typeof current !== "number") throw CacheError.notNumeric(key);
      const next = current + by;
      this.q.setValue!.run(k, JSON.stringify(next));
      return next;
    });
  }

  async forget(key: string): Promise<boolean> {
    return this.q.forget!.run(this.k(key)).changes > 0;
  }

  async flush(): Promise<void> {
    this.store.tx(() => {
      if (this.prefix) {
        // substr, not LIKE: LIKE folds ASCII case and would flush a neighbour's prefix
        const mine = `substr(key, 1, length(?1)) = ?1`;
        this.store.db.prepare(`DELETE FROM cache_entries WHERE ${mine}`).run(this.prefix);
        this.store.db.prepare(`DELETE FROM cache_locks WHERE ${mine}`).run(this.prefix);
      } else {
        this.store.db.exec("DELETE FROM cache_entries; DELETE FROM cache_locks");
      }
    });
  }

  async touch(key: string, expiresAt: number | null): Promise<boolean> {
    return this.q.touch!.run(this.k(key), expiresAt, this.clock.now()).changes > 0;
  }

  async ttl(key: string): Promise<number | null | undefined> {
    const now = this.clock.now();
    const row = this.q.ttl!.get(this.k(key), now) as { expiration: number | null } | null;
    if (!row) return undefined;
    return row.expiration === null ? null : row.expiration - now;
  }

  async acquireLock(name: string, owner: string, expiresAt: number | null): Promise<boolean> {
    return this.q.lockAcquire!.run(this.k(name), owner, expiresAt, this.clock.now()).changes > 0;
  }

  async releaseLock(name: string, owner: string): Promise<boolean> {
    return this.q.lockRelease!.run(this.k(name), owner).changes > 0;
  }

  async forceReleaseLock(name: string): Promise<void> {
    this.q.lockForce!.run(this.k(name));
  }

  async lockOwner(name: string): Promise<string | undefined> {
    return (this.q.lockOwner!.get(this.k(name), this.clock.now()) as { owner: string } | null)?.owner;
  }

  async refreshLock(name: string, owner: string, expiresAt: number | null): Promise<boolean> {
    return this.q.lockRefresh!.run(this.k(name), owner, expiresAt, this.clock.now()).changes > 0;
  }

  /**
   * Delete expired rows in key-ordered chunks, one short transaction each, so a large cache never
   * holds the write lock for a whole-table scan (there is no expiration index: see migrations.ts).
   */
  async prune(): Promise<number> {
    const now = this.clock.now();
    let removed = this.q.pruneLocks!.run(now).changes;
    let from = "";
    for (;;) {
      const end = (this.q.pruneChunkEnd!.get(from) as { key: string } | null)?.key ?? null;
      if (end === null) return removed + this.q.pruneTail!.run(from, now).changes;
      removed += this.q.pruneChunk!.run(from, end, now).changes;
      from = end;
      await Promise.resolve(); // let other work in this process run between chunks
    }
  }

  async stats(): Promise<StoreStats> {
    const db = this.store.db;
    const now = this.clock.now();
    const e = db.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(CAST(value AS BLOB))), 0) AS bytes FROM cache_entries WHERE expiration IS NULL OR expiration > ?1`).get(now) as { n: number; bytes: number };
    const l = db.prepare(`SELECT COUNT(*) AS n FROM cache_locks WHERE expiration IS NULL OR expiration > ?1`).get(now) as { n: number };
    const s = db.prepare(`SELECT hits, misses FROM cache_stats WHERE id = 1`).get() as { hits: number; misses: number } | null;
    return { entries: e.n, bytes: e.bytes, hits: s?.hits ?? 0, misses: s?.misses ?? 0, locks: l.n };
  }

  async recordHits(hits: number, misses: number): Promise<void> {
    if (hits || misses) this.q.hits!.run(hits, misses);
  }

  async close(): Promise<void> {
    // the shared Store belongs to the App; statements die with it
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
