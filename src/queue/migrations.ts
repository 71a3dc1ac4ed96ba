/**
 * Queue tables. Times are integer milliseconds since the epoch. A job's visibility is one column:
 * `visible_at` is when it becomes available (push + delay) and, once reserved, when its lease ends
 * — so "available or lease expired" is a single index range `visible_at <= now`.
 */
import type { Migration } from "../core/store/migrations.ts";

export const queueMigrations: Migration[] = [
  {
    namespace: "queue",
    version: 1,
    description: "jobs, failed jobs, batches, unique locks, paused queues, worker signals, throughput",
    up: `
      CREATE TABLE queue_jobs (
        id INTEGER PRIMARY KEY,
        queue TEXT NOT NULL,
        handler TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        priority INTEGER NOT NULL DEFAULT 0,
        visible_at INTEGER NOT NULL,
        reserved_at INTEGER,
        created_at INTEGER NOT NULL,
        tries INTEGER,
        backoff TEXT,
        timeout REAL,
        unique_key TEXT,
        chain TEXT,
        batch_id TEXT
      );
      CREATE INDEX queue_jobs_ready ON queue_jobs (queue, priority DESC, visible_at);
      CREATE TABLE queue_failed (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        job_id INTEGER NOT NULL,
        queue TEXT NOT NULL,
        handler TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        options TEXT,
        exception TEXT NOT NULL,
        output TEXT,
        failed_at INTEGER NOT NULL
      );
      CREATE INDEX queue_failed_at ON queue_failed (failed_at);
      CREATE TABLE queue_batches (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        total INTEGER NOT NULL,
        pending INTEGER NOT NULL,
        failed INTEGER NOT NULL DEFAULT 0,
        failed_ids TEXT NOT NULL DEFAULT '[]',
        options TEXT NOT NULL,
        cancelled_at INTEGER,
        created_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE TABLE queue_unique (key TEXT PRIMARY KEY, job_id INTEGER NOT NULL, expires_at INTEGER);
      CREATE TABLE queue_paused (queue TEXT PRIMARY KEY, paused_at INTEGER NOT NULL);
      CREATE TABLE queue_signals (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE queue_locks (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE queue_limits (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);
      CREATE TABLE queue_throughput (queue TEXT NOT NULL, minute INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (queue, minute));
    `,
  },
  {
    namespace: "queue",
    version: 2,
    description: "job ids never reused (AUTOINCREMENT): (id, attempts) is the lease token",
    // Without AUTOINCREMENT SQLite hands the largest deleted id to the next insert; a stale
    // worker's ack for (id, attempts) could then delete a new job that reuses both numbers.
    up: (db) => {
      const cols = "id, queue, handler, payload, attempts, priority, visible_at, reserved_at, created_at, tries, backoff, timeout, unique_key, chain, batch_id";
      db.exec(`
        CREATE TABLE queue_jobs_v2 (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          queue TEXT NOT NULL,
          handler TEXT NOT NULL,
          payload TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          priority INTEGER NOT NULL DEFAULT 0,
          visible_at INTEGER NOT NULL,
          reserved_at INTEGER,
          created_at INTEGER NOT NULL,
          tries INTEGER,
          backoff TEXT,
          timeout REAL,
          unique_key TEXT,
          chain TEXT,
          batch_id TEXT
        );
        INSERT INTO queue_jobs_v2 (${cols}) SELECT ${cols} FROM queue_jobs;
        DROP TABLE queue_jobs;
        ALTER TABLE queue_jobs_v2 RENAME TO queue_jobs;
        CREATE INDEX queue_jobs_ready ON queue_jobs (queue, priority DESC, visible_at);
      `);
      // start above every id ever handed out, including those only left in queue_failed
      const top = db.query(`SELECT max(coalesce((SELECT max(id) FROM queue_jobs), 0), coalesce((SELECT max(job_id) FROM queue_failed), 0)) AS n`).get() as { n: number };
      db.query(`DELETE FROM sqlite_sequence WHERE name = 'queue_jobs'`).run();
      db.query(`INSERT INTO sqlite_sequence (name, seq) VALUES ('queue_jobs', ?1)`).run(top.n);
    },
  },
  {
    namespace: "queue",
    version: 3,
    description: "output of successful shell/http jobs, kept a day (queue:show)",
    up: `CREATE TABLE queue_completed (job_id INTEGER PRIMARY KEY, queue TEXT NOT NULL, handler TEXT NOT NULL, payload TEXT NOT NULL,
           attempts INTEGER NOT NULL, output TEXT NOT NULL, finished_at INTEGER NOT NULL);
         CREATE INDEX queue_completed_at ON queue_completed (finished_at);`,
  },
];
