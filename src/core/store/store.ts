/**
 * The one embedded store: a SQLite file in WAL mode shared by every process of an installation.
 * Opened 0600 in a 0700 folder; writers use BEGIN IMMEDIATE with a busy timeout so concurrent
 * processes queue instead of failing with SQLITE_BUSY.
 */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { SecurelyError } from "../errors.ts";
import { ChangeFeed } from "./changes.ts";
import { runMigrations } from "./migrator.ts";
import type { Migration } from "./migrations.ts";

export interface StoreOptions {
  path: string;
  busyTimeoutMs?: number;
  migrations?: Migration[];
  readonly?: boolean;
}

export class Store {
  readonly db: Database;
  readonly path: string;
  readonly changes: ChangeFeed;

  constructor(opts: StoreOptions) {
    this.path = opts.path;
    const memory = opts.path === ":memory:";
    if (!memory) {
      const dir = dirname(opts.path);
      try {
        if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new SecurelyError(`cannot create the store folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          hint: "check store.path in the config and the parent folder's permissions",
        });
      }
    }
    const fresh = memory || !existsSync(opts.path);
    try {
      this.db = new Database(opts.path, opts.readonly ? { readonly: true } : { create: true, strict: true });
    } catch (err) {
      throw new SecurelyError(`cannot open store ${opts.path}: ${(err as Error).message}`, {
        hint: "check store.path in the config and the folder's permissions",
      });
    }
    if (fresh && !memory) chmodSync(opts.path, 0o600);
    const busyTimeoutMs = opts.busyTimeoutMs ?? 10_000;
    this.db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    try {
      if (!opts.readonly) {
        enableWal(this.db, busyTimeoutMs);
        this.db.exec("PRAGMA synchronous = NORMAL");
      }
      // reading the schema is the first thing that fails on a file that is not a store
      this.db.query("SELECT count(*) FROM sqlite_master").get();
    } catch (err) {
      this.db.close();
      const code = (err as { code?: string }).code ?? "";
      if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
        throw new SecurelyError(`store ${opts.path} is not a SQLite database or is corrupted (${(err as Error).message})`, {
          hint: "restore it from a backup (securely store:backup makes one), or point store.path at another file; securely leaves it untouched",
        });
      }
      throw err;
    }
    this.db.exec("PRAGMA foreign_keys = ON");
    this.changes = new ChangeFeed(this.db);
    if (!opts.readonly) runMigrations(this.db, opts.migrations ?? [], opts.path);
  }

  /** Run fn in a BEGIN IMMEDIATE transaction (takes the write lock up front: no upgrade deadlocks). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }
}

/**
 * `PRAGMA journal_mode = WAL`, tried again while it answers SQLITE_BUSY, up to `timeoutMs`. Switching
 * the journal mode is one of the places SQLite reports a lock conflict at once instead of waiting
 * for busy_timeout (it would risk a deadlock): several processes opening a fresh store together hit
 * it now and then (seen in CI, 1 run in many).
 */
export function enableWal(db: Pick<Database, "exec">, timeoutMs: number): void {
  const until = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      db.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== "SQLITE_BUSY" || Date.now() >= until) throw err;
      Bun.sleepSync(pause);
    }
  }
}
