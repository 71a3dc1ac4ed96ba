/**
 * The local activity task table (workflow_tasks): a small leased queue in the same store as the
 * history, so an activity is scheduled in the very transaction that records ActivityScheduled.
 * A task's lease runs from its claim; a worker that dies leaves it to be claimed again when the
 * lease ends (or at once, when a worker on the same host sees the owner's process is gone).
 */
import type { Statement } from "bun:sqlite";
import type { Store } from "../../core/store/store.ts";
import type { ActivityQueue, ActivityTask } from "../types.ts";

interface TaskRow {
  id: number;
  run_id: string;
  cid: number;
  name: string;
  input: string | null;
  options: string | null;
  attempt: number;
  scheduled_at: number;
  heartbeat: string | null;
  lease_owner: string;
}

export class SqliteActivityQueue implements ActivityQueue {
  private s: Record<string, Statement>;
  /** Called (inside the writing transaction) when a task becomes due at `at` (queue dispatch). */
  onDue?: (taskId: number, at: number, runId: string) => void;

  constructor(private store: Store) {
    const db = store.db;
    this.s = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO workflow_tasks (run_id, cid, name, input, options, scheduled_at, available_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)`,
      ),
      claim: db.prepare(
        `UPDATE workflow_tasks SET lease_owner = ?2, lease_until = ?1 + ?4, attempt = attempt + 1
         WHERE id IN (SELECT id FROM workflow_tasks WHERE available_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1)
                      ORDER BY available_at, id LIMIT ?3)
         RETURNING id, run_id, cid, name, input, options, attempt, scheduled_at, heartbeat, lease_owner`,
      ),
      claimOne: db.prepare(
        `UPDATE workflow_tasks SET lease_owner = ?3, lease_until = ?2 + ?4, attempt = attempt + 1
         WHERE id = ?1 AND available_at <= ?2 AND (lease_until IS NULL OR lease_until < ?2)
         RETURNING id, run_id, cid, name, input, options, attempt, scheduled_at, heartbeat, lease_owner`,
      ),
      leaseEnd: db.prepare("SELECT available_at, lease_until FROM workflow_tasks WHERE id = ?1"),
      remove: db.prepare("DELETE FROM workflow_tasks WHERE id = ?1 AND lease_owner = ?2"),
      retry: db.prepare(
        "UPDATE workflow_tasks SET available_at = ?3, lease_until = NULL, lease_owner = NULL, last_error = ?4 WHERE id = ?1 AND lease_owner = ?2",
      ),
      extend: db.prepare("UPDATE workflow_tasks SET lease_until = ?3, heartbeat = COALESCE(?4, heartbeat) WHERE id = ?1 AND lease_owner = ?2"),
      dropRun: db.prepare("DELETE FROM workflow_tasks WHERE run_id = ?1"),
      releaseOwner: db.prepare("UPDATE workflow_tasks SET lease_until = NULL WHERE lease_owner = ?1"),
      owners: db.prepare("SELECT DISTINCT lease_owner AS owner FROM workflow_tasks WHERE lease_owner IS NOT NULL AND lease_until IS NOT NULL"),
      ofRun: db.prepare("SELECT cid, name, attempt, available_at, last_error, lease_until FROM workflow_tasks WHERE run_id = ?1 ORDER BY cid"),
      nextDue: db.prepare("SELECT MIN(COALESCE(lease_until, available_at)) AS t FROM workflow_tasks"),
    };
  }

  enqueue(t: Parameters<ActivityQueue["enqueue"]>[0], now: number): void {
    const r = this.s.insert!.run(t.runId, t.cid, t.name, JSON.stringify(t.input ?? null), JSON.stringify(t.options ?? {}), now);
    if (r.changes > 0) this.onDue?.(Number(r.lastInsertRowid), now, t.runId);
  }

  claim(owner: string, now: number, limit: number, leaseMs: number): ActivityTask[] {
    return this.toTasks(this.store.tx(() => this.s.claim!.all(now, owner, limit, leaseMs) as TaskRow[]));
  }

  /** Lease one task by id if it is due and free (a queue job asking for it). */
  claimOne(id: number, owner: string, now: number, leaseMs: number): ActivityTask | undefined {
    return this.toTasks(this.store.tx(() => this.s.claimOne!.all(id, now, owner, leaseMs) as TaskRow[]))[0];
  }

  /** When a task leased by someone else can be taken over (its lease end); null if it is gone. */
  leaseEnd(id: number): { available_at: number; lease_until: number | null } | null {
    return this.s.leaseEnd!.get(id) as { available_at: number; lease_until: number | null } | null;
  }

  private toTasks(rows: TaskRow[]): ActivityTask[] {
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      cid: r.cid,
      name: r.name,
      input: r.input === null ? null : JSON.parse(r.input),
      options: r.options ? JSON.parse(r.options) : {},
      attempt: r.attempt,
      scheduledAt: r.scheduled_at,
      heartbeat: r.heartbeat === null ? undefined : JSON.parse(r.heartbeat),
      leaseOwner: r.lease_owner,
    }));
  }

  remove(task: ActivityTask): boolean {
    return this.s.remove!.run(task.id, task.leaseOwner).changes > 0;
  }

  retry(task: ActivityTask, availableAt: number, error: string): void {
    if (this.s.retry!.run(task.id, task.leaseOwner, availableAt, error.slice(0, 2000)).changes > 0) this.onDue?.(task.id, availableAt, task.runId);
  }

  extend(task: ActivityTask, leaseUntil: number, heartbeat?: unknown): void {
    this.s.extend!.run(task.id, task.leaseOwner, leaseUntil, heartbeat === undefined ? null : JSON.stringify(heartbeat));
  }

  dropRun(runId: string): void {
    this.s.dropRun!.run(runId);
  }

  releaseOwner(owner: string): number {
    return this.s.releaseOwner!.run(owner).changes;
  }

  leaseOwners(): string[] {
    return (this.s.owners!.all() as { owner: string }[]).map((r) => r.owner);
  }

  ofRun(runId: string) {
    return (this.s.ofRun!.all(runId) as any[]).map((r) => ({ cid: r.cid, name: r.name, attempt: r.attempt, available_at: r.available_at, last_error: r.last_error, leased: r.lease_until !== null }));
  }

  nextDue(): number | null {
    return (this.s.nextDue!.get() as { t: number | null }).t;
  }
}
