/**
 * Tables of the workflow namespace. `workflow_events` is the append-only history every run is
 * replayed from; runs, timers and tasks are indexes over it that say what is due and who holds it.
 */
import type { Migration } from "../core/store/migrations.ts";

export const workflowMigrations: Migration[] = [
  {
    namespace: "workflow",
    version: 1,
    description: "workflow runs, history, timers and activity tasks",
    up: `
      CREATE TABLE workflow_runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        input TEXT,
        status TEXT NOT NULL,
        output TEXT,
        error TEXT,
        parent_id TEXT,
        parent_cid INTEGER,
        waiting_on TEXT,
        wake_at INTEGER,
        task_seq INTEGER NOT NULL DEFAULT 0,
        lease_until INTEGER,
        lease_owner TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        completed_at INTEGER
      );
      CREATE INDEX workflow_runs_due ON workflow_runs (wake_at) WHERE status = 'running' AND wake_at IS NOT NULL;
      CREATE INDEX workflow_runs_status ON workflow_runs (status, created_at);
      CREATE INDEX workflow_runs_parent ON workflow_runs (parent_id) WHERE parent_id IS NOT NULL;

      CREATE TABLE workflow_events (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        cid INTEGER,
        at INTEGER NOT NULL,
        data TEXT,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID;
      CREATE INDEX workflow_events_cid ON workflow_events (run_id, cid) WHERE cid IS NOT NULL;

      CREATE TABLE workflow_timers (
        run_id TEXT NOT NULL,
        cid INTEGER NOT NULL,
        fire_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, cid)
      ) WITHOUT ROWID;
      CREATE INDEX workflow_timers_due ON workflow_timers (fire_at);

      CREATE TABLE workflow_tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        cid INTEGER NOT NULL,
        name TEXT NOT NULL,
        input TEXT,
        options TEXT,
        attempt INTEGER NOT NULL DEFAULT 0,
        scheduled_at INTEGER NOT NULL,
        available_at INTEGER NOT NULL,
        lease_until INTEGER,
        lease_owner TEXT,
        heartbeat TEXT,
        last_error TEXT,
        UNIQUE (run_id, cid)
      );
      CREATE INDEX workflow_tasks_due ON workflow_tasks (available_at);
    `,
  },
];
