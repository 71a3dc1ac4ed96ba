/**
 * Runs and their append-only history in the store. Every method that writes is meant to be
 * called inside `store.tx()` by the engine or the client, so a workflow task's new events, its
 * timers, its activity tasks and the run's new state commit together or not at all.
 */
import type { Statement } from "bun:sqlite";
import type { Store } from "../../core/store/store.ts";
import type { NewEvent, RunRecord, RunStatus, StoredError, WorkflowEvent } from "../types.ts";

interface RunRow {
  id: string;
  name: string;
  input: string | null;
  status: RunStatus;
  output: string | null;
  error: string | null;
  parent_id: string | null;
  parent_cid: number | null;
  waiting_on: string | null;
  wake_at: number | null;
  task_seq: number;
  lease_until: number | null;
  lease_owner: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

/** The few columns hot paths need (no JSON parsing). */
export interface RunHead {
  id: string;
  name: string;
  status: RunStatus;
  parent_id: string | null;
  parent_cid: number | null;
  task_seq: number;
  lease_owner: string | null;
}

export interface RunState extends RunRecord {
  task_seq: number;
  lease_until: number | null;
  lease_owner: string | null;
}

const parse = (s: string | null): any => (s === null || s === undefined ? null : JSON.parse(s));
const json = (v: unknown): string => JSON.stringify(v === undefined ? null : v);

function toRun(r: RunRow): RunState {
  return { ...r, input: parse(r.input), output: parse(r.output), error: parse(r.error) as StoredError | null };
}

export class RunRepository {
  private s: Record<string, Statement>;
  /** Called (inside the writing transaction) whenever a run's workflow task becomes due at `at`. */
  onDue?: (runId: string, at: number) => void;

  constructor(readonly store: Store) {
    const db = store.db;
    this.s = {
      get: db.prepare("SELECT * FROM workflow_runs WHERE id = ?1"),
      head: db.prepare("SELECT id, name, status, parent_id, parent_cid, task_seq, lease_owner FROM workflow_runs WHERE id = ?1"),
      insert: db.prepare(
        `INSERT INTO workflow_runs (id, name, input, status, parent_id, parent_cid, wake_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?6, ?6)`,
      ),
      deleteRun: db.prepare("DELETE FROM workflow_runs WHERE id = ?1"),
      deleteEvents: db.prepare("DELETE FROM workflow_events WHERE run_id = ?1"),
      maxSeq: db.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM workflow_events WHERE run_id = ?1"),
      append: db.prepare("INSERT INTO workflow_events (run_id, seq, type, cid, at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      history: db.prepare("SELECT seq, type, cid, at, data FROM workflow_events WHERE run_id = ?1 ORDER BY seq"),
      results: db.prepare("SELECT seq FROM workflow_events WHERE run_id = ?1 AND cid = ?2 AND type IN ('ActivityCompleted','ActivityFailed','ChildCompleted','ChildFailed')"),
      retried: db.prepare("SELECT seq, data FROM workflow_events WHERE run_id = ?1 AND type = 'WorkflowRetried'"),
      wake: db.prepare("UPDATE workflow_runs SET wake_at = ?2, updated_at = ?2 WHERE id = ?1 AND status = 'running'"),
      due: db.prepare(
        `SELECT id FROM workflow_runs WHERE status = 'running' AND wake_at IS NOT NULL AND wake_at <= ?1
         AND (lease_until IS NULL OR lease_until < ?1) ORDER BY wake_at LIMIT ?2`,
      ),
      dueOne: db.prepare(
        `SELECT id FROM workflow_runs WHERE id = ?1 AND status = 'running' AND wake_at IS NOT NULL AND wake_at <= ?2
         AND (lease_until IS NULL OR lease_until < ?2)`,
      ),
      lease: db.prepare(
        "UPDATE workflow_runs SET lease_until = ?2, lease_owner = ?3 WHERE id = ?1 RETURNING id, name, status, parent_id, parent_cid, task_seq, lease_owner",
      ),
      dueTimers: db.prepare("SELECT cid, fire_at FROM workflow_timers WHERE run_id = ?1 AND fire_at <= ?2 ORDER BY fire_at, cid"),
      insertTimer: db.prepare("INSERT OR REPLACE INTO workflow_timers (run_id, cid, fire_at) VALUES (?1, ?2, ?3)"),
      deleteTimer: db.prepare("DELETE FROM workflow_timers WHERE run_id = ?1 AND cid = ?2"),
      timers: db.prepare("SELECT cid, fire_at FROM workflow_timers WHERE run_id = ?1 ORDER BY fire_at"),
      deleteTimers: db.prepare("DELETE FROM workflow_timers WHERE run_id = ?1"),
      nextTimer: db.prepare("SELECT MIN(fire_at) AS t FROM workflow_timers WHERE run_id = ?1"),
      finishTask: db.prepare(
        `UPDATE workflow_runs SET waiting_on = ?2, wake_at = ?3, task_seq = ?4, lease_until = NULL, lease_owner = NULL, updated_at = ?5
         WHERE id = ?1`,
      ),
      finish: db.prepare(
        `UPDATE workflow_runs SET status = ?2, output = ?3, error = ?4, waiting_on = NULL, wake_at = NULL, lease_until = NULL,
         lease_owner = NULL, updated_at = ?5, completed_at = ?5 WHERE id = ?1`,
      ),
      park: db.prepare(
        `UPDATE workflow_runs SET status = 'failed', error = ?2, wake_at = NULL, lease_until = NULL, lease_owner = NULL,
         updated_at = ?3, completed_at = ?3 WHERE id = ?1`,
      ),
      reopen: db.prepare(
        `UPDATE workflow_runs SET status = 'running', error = NULL, output = NULL, wake_at = ?2, completed_at = NULL, updated_at = ?2 WHERE id = ?1`,
      ),
      children: db.prepare("SELECT id FROM workflow_runs WHERE parent_id = ?1 AND status = 'running'"),
      releaseOwner: db.prepare("UPDATE workflow_runs SET lease_until = NULL, lease_owner = NULL WHERE lease_owner = ?1"),
      owners: db.prepare("SELECT DISTINCT lease_owner AS owner FROM workflow_runs WHERE lease_owner IS NOT NULL"),
    };
  }

  get(id: string): RunState | undefined {
    const r = this.s.get!.get(id) as RunRow | null;
    return r ? toRun(r) : undefined;
  }

  head(id: string): RunHead | undefined {
    return (this.s.head!.get(id) as RunHead | null) ?? undefined;
  }

  /** Insert a run and its WorkflowStarted event; `replace` drops a finished run with the same id. */
  create(run: { id: string; name: string; input: unknown; parentId?: string; parentCid?: number }, now: number, replace = false): void {
    if (replace) {
      this.s.deleteEvents!.run(run.id);
      this.s.deleteTimers!.run(run.id);
      this.s.deleteRun!.run(run.id);
    }
    this.s.insert!.run(run.id, run.name, json(run.input), run.parentId ?? null, run.parentCid ?? null, now);
    this.append(run.id, [{ type: "WorkflowStarted", cid: null, data: { name: run.name, input: run.input ?? null, parent_id: run.parentId ?? null } }], now);
    this.onDue?.(run.id, now);
  }

  /** Append events after the current last seq (pass it when known); returns the last seq written. */
  append(runId: string, events: NewEvent[], now: number, lastSeq?: number): number {
    if (events.length === 0) return lastSeq ?? this.maxSeq(runId);
    let seq = lastSeq ?? (this.s.maxSeq!.get(runId) as { seq: number }).seq;
    for (const ev of events) this.s.append!.run(runId, ++seq, ev.type, ev.cid ?? null, ev.at ?? now, json(ev.data));
    return seq;
  }

  maxSeq(runId: string): number {
    return (this.s.maxSeq!.get(runId) as { seq: number }).seq;
  }

  history(runId: string): WorkflowEvent[] {
    return (this.s.history!.all(runId) as Array<Omit<WorkflowEvent, "data"> & { data: string }>).map((e) => ({ ...e, data: parse(e.data) }));
  }

  /** Whether command `cid` already has its result (a duplicate attempt must not record twice). */
  hasResult(runId: string, cid: number): boolean {
    const seqs = (this.s.results!.all(runId, cid) as { seq: number }[]).map((r) => r.seq);
    if (seqs.length === 0) return false;
    // a result workflow:retry voided does not count: the retried attempt records a new one
    const voided = (this.s.retried!.all(runId) as { seq: number; data: string }[]).map((r) => [JSON.parse(r.data).from_seq as number, r.seq]);
    return seqs.some((seq) => !voided.some(([a, b]) => seq >= a! && seq < b!));
  }

  /** Mark the run as having a workflow task due now (new event from outside). */
  wake(runId: string, now: number): void {
    if (this.s.wake!.run(runId, now).changes > 0) this.onDue?.(runId, now);
  }

  /** Lease up to `limit` due runs; timers that are due become TimerFired events first. */
  claimDue(owner: string, now: number, leaseMs: number, limit: number, only?: string): RunHead[] {
    const ids = only !== undefined ? (this.s.dueOne!.get(only, now) ? [only] : []) : (this.s.due!.all(now, limit) as { id: string }[]).map((r) => r.id);
    const out: RunHead[] = [];
    for (const id of ids) {
      const head = this.s.lease!.get(id, now + leaseMs, owner) as RunHead;
      const fired = this.s.dueTimers!.all(id, now) as { cid: number; fire_at: number }[];
      if (fired.length) {
        this.append(id, fired.map((t) => ({ type: "TimerFired", cid: t.cid, data: { fire_at: t.fire_at } })), now);
        for (const t of fired) this.s.deleteTimer!.run(id, t.cid);
      }
      out.push(head);
    }
    return out;
  }

  /** Replace the run's timers with exactly `pending` (timers its code no longer waits on go). */
  setTimers(runId: string, pending: Map<number, number>): void {
    this.s.deleteTimers!.run(runId);
    for (const [cid, fireAt] of pending) this.s.insertTimer!.run(runId, cid, fireAt);
  }

  timers(runId: string): Array<{ cid: number; fire_at: number }> {
    return this.s.timers!.all(runId) as Array<{ cid: number; fire_at: number }>;
  }

  nextTimer(runId: string): number | null {
    return (this.s.nextTimer!.get(runId) as { t: number | null }).t;
  }

  /** End of a workflow task that left the run waiting. */
  finishTask(runId: string, waitingOn: string | null, wakeAt: number | null, taskSeq: number, now: number): void {
    this.s.finishTask!.run(runId, waitingOn, wakeAt, taskSeq, now);
    if (wakeAt !== null) this.onDue?.(runId, wakeAt);
  }

  finish(runId: string, status: RunStatus, output: unknown, error: StoredError | null, now: number): void {
    this.s.finish!.run(runId, status, output === undefined ? null : json(output), error ? json(error) : null, now);
    this.s.deleteTimers!.run(runId);
  }

  /** Stop running a run whose code is non-deterministic; history stays as it was. */
  park(runId: string, error: StoredError, now: number): void {
    this.s.park!.run(runId, json(error), now);
  }

  reopen(runId: string, now: number): void {
    this.s.reopen!.run(runId, now);
    this.onDue?.(runId, now);
  }

  runningChildren(runId: string): string[] {
    return (this.s.children!.all(runId) as { id: string }[]).map((r) => r.id);
  }

  /** Free leases held by an owner known to be dead (its process is gone). */
  releaseOwner(owner: string): number {
    return this.s.releaseOwner!.run(owner).changes;
  }

  leaseOwners(): string[] {
    return (this.s.owners!.all() as { owner: string }[]).map((r) => r.owner);
  }

  list(opts: { status?: string; name?: string; limit?: number }): RunState[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: opts.limit ?? 100 };
    if (opts.status) {
      where.push("status = $status");
      params.status = opts.status;
    }
    if (opts.name) {
      where.push("name = $name");
      params.name = opts.name;
    }
    const sql = `SELECT * FROM workflow_runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id LIMIT $limit`;
    return (this.store.db.query(sql).all(params as any) as RunRow[]).map(toRun);
  }
}
