/** The run history: one row per entry per due tick per host, which is also the "already ran" claim. */
import type { Migration } from "../core/store/migrations.ts";

export const scheduleMigrations: Migration[] = [
  {
    namespace: "schedule",
    version: 1,
    description: "schedule run history and tick claims",
    up: `
      CREATE TABLE schedule_runs (
        name TEXT NOT NULL,
        due_at INTEGER NOT NULL,     -- epoch ms of the tick
        host TEXT NOT NULL,          -- hostname, or '*' for on_one_server entries
        status TEXT NOT NULL,        -- running, success, failed, skipped
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        exit_code INTEGER,
        reason TEXT,
        output TEXT,
        PRIMARY KEY (name, due_at, host)
      );
      CREATE INDEX schedule_runs_recent ON schedule_runs (name, started_at);`,
  },
];
