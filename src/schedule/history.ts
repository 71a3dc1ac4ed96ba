/**
 * schedule_runs: claiming a tick is one INSERT OR IGNORE on (name, due_at, host), so a tick that
 * already ran — before a restart, or in another process on the same store — is never run again.
 */
import type { Statement } from "bun:sqlite";
import type { Store } from "../core/store/store.ts";
import type { RunRecord, RunStatus } from "./types.ts";

/** Output kept per run in the table (the `output:` file gets all of it). */
const KEEP_OUTPUT = 4096;
/** Rows kept per entry. */
const KEEP_ROWS = 100;

export class RunHistory {
  private q: Record<string, Statement>;

  constructor(private store: Store) {
    const db = store.db;
    this.q = {
      claim: db.prepare(`INSERT OR IGNORE INTO schedule_runs (name, due_at, host, status, started_at) VALUES (?1, ?2, ?3, 'running', ?4)`),
      finish: db.prepare(`UPDATE schedule_runs SET status = ?4, finished_at = ?5, exit_code = ?6, reason = ?7, output = ?8 WHERE name = ?1 AND due_at = ?2 AND host = ?3`),
      last: db.prepare(`SELECT name, due_at, host, status, started_at, finished_at, exit_code, reason FROM schedule_runs WHERE name = ?1 ORDER BY due_at DESC, started_at DESC LIMIT 1`),
      recent: db.prepare(`SELECT name, due_at, host, status, started_at, finished_at, exit_code, reason FROM schedule_runs WHERE name = ?1 ORDER BY due_at DESC LIMIT ?2`),
      prune: db.prepare(`DELETE FROM schedule_runs WHERE name = ?1 AND due_at < (SELECT due_at FROM schedule_runs WHERE name = ?1 ORDER BY due_at DESC LIMIT 1 OFFSET ?2)`),
    };
  }

  /** True when this call claimed the tick; false when it was claimed before. */
  claim(name: string, dueAt: number, host: string, now: number): boolean {
    return this.q.claim!.run(name, dueAt, host, now).changes > 0;
  }

  finish(name: string, dueAt: number, host: string, r: { status: RunStatus; now: number; exitCode?: number; reason?: string; output?: string }): void {
    this.store.tx(() => {
      this.q.finish!.run(name, dueAt, host, r.status, r.now, r.exitCode ?? null, r.reason ?? null, r.output ? r.output.slice(-KEEP_OUTPUT) : null);
      this.q.prune!.run(name, KEEP_ROWS);
    });
  }

  last(name: string): RunRecord | undefined {
    return (this.q.last!.get(name) as RunRecord | null) ?? undefined;
  }

  recent(name: string, limit = 10): RunRecord[] {
    return this.q.recent!.all(name, limit) as RunRecord[];
  }
}
