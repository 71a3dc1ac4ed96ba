/**
 * The WorkflowContext a workflow function runs against during one replay. Every call that has an
 * effect is a numbered command (cid, in call order). A command already in history is checked
 * against it (same type and name, else NonDeterminismError) and its recorded outcome is fed
 * back; a new one is queued in `newEvents` for the engine to append. Waits resolve only when the
 * replay loop applies the matching history event, so state evolves exactly as in the first run.
 */
import { ActivityFailure, CancelledFailure, ChildWorkflowFailure, NonDeterminismError, toStoredError } from "../errors.ts";
import { toMs } from "../duration.ts";
import type { ActivityOptions, ChildOptions, Duration, EventType, NewEvent, WaitOptions, WorkflowContext, WorkflowDefinition, WorkflowEvent } from "../types.ts";
import { seededRandom, uuidFrom } from "./random.ts";

/** Version returned by getVersion for runs that started before the change. */
export const DEFAULT_VERSION = 0;

interface Pending {
  kind: "activity" | "timer" | "child";
  label: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

interface SignalWaiter {
  label: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timerCid?: number;
}

interface Condition {
  label: string;
  fn: () => boolean;
  resolve(v: boolean): void;
  reject(e: unknown): void;
  timerCid?: number;
}

export interface ContextInit {
  workflowId: string;
  workflowName: string;
  definition: WorkflowDefinition;
  /** Command events of history by cid (already filtered of voided events). */
  commands: Map<number, WorkflowEvent>;
  /** Version markers recorded in history, by change id. */
  markers: Map<string, number>;
  /** Real time of this workflow task, for new timers. */
  taskNow: number;
  /** Highest seq the previous workflow task had replayed: below it we are replaying. */
  taskSeq: number;
  log?: (message: string, ...args: unknown[]) => void;
}

export class ReplayContext implements WorkflowContext {
  readonly workflowId: string;
  readonly workflowName: string;
  cancelRequested = false;
  /** New events this task appends. */
  readonly newEvents: NewEvent[] = [];
  /** Set on the first non-determinism; workflow code cannot swallow it. */
  fatal?: NonDeterminismError;
  /** Deterministic time: when the last applied event happened. */
  time = 0;
  /** Seq of the last applied history event. */
  appliedSeq = 0;
  /** Side effects whose function is still running (async): the replay waits for them. */
  readonly inflight = new Set<Promise<unknown>>();
  nextCid = 0;
  readonly pending = new Map<number, Pending>();
  /** Pending timers: cid → fire_at. */
  readonly timers = new Map<number, number>();
  readonly signalWaiters = new Map<string, SignalWaiter[]>();
  private readonly signalBuffers = new Map<string, unknown[]>();
  private readonly handlers = new Map<string, (payload: any) => void>();
  private readonly conditions: Condition[] = [];
  private readonly compensations: Array<() => unknown> = [];
  private readonly random_: () => number;

  constructor(private init: ContextInit) {
    this.workflowId = init.workflowId;
    this.workflowName = init.workflowName;
    this.random_ = seededRandom(init.workflowId);
  }

  /** True while re-executing what an earlier workflow task already executed. */
  get replaying(): boolean {
    return this.appliedSeq < this.init.taskSeq || this.nextCid < this.init.commands.size;
  }

  // ---- commands -------------------------------------------------------------------------

  private issue(type: EventType, name: string | undefined, data: Record<string, unknown>): { cid: number; recorded?: WorkflowEvent } {
    if (this.fatal) throw this.fatal;
    const cid = this.nextCid++;
    const rec = this.init.commands.get(cid);
    if (rec) {
      const recName = rec.data?.name as string | undefined;
      if (rec.type !== type || recName !== name) {
        throw this.nondeterminism(`at command ${cid} history event #${rec.seq} says the code ${describe(rec.type, recName)}, but it now ${describe(type, name)}`, rec);
      }
      return { cid, recorded: rec };
    }
    this.newEvents.push({ type, cid, data: name === undefined ? data : { name, ...data } });
    return { cid };
  }

  nondeterminism(message: string, rec?: WorkflowEvent): NonDeterminismError {
    const err = new NonDeterminismError(
      `workflow ${this.workflowId} (${this.workflowName}) is non-deterministic: ${message} — restore the previous code, or guard the change with ctx.getVersion()`,
      rec ? { seq: rec.seq, type: rec.type, cid: rec.cid, name: rec.data?.name } : undefined,
    );
    this.fatal ??= err;
    return this.fatal;
  }

  private wait<T>(cid: number, kind: Pending["kind"], label: string): Promise<T> {
    return handled(
      new Promise<T>((resolve, reject) => {
        this.pending.set(cid, { kind, label, resolve: resolve as (v: unknown) => void, reject });
      }),
    );
  }

  activity<T = unknown>(name: string, input?: unknown, options?: ActivityOptions): Promise<T> {
    const merged = { ...(this.init.definition.activityOptions ?? {}), ...(options ?? {}) };
    const { cid } = this.issue("ActivityScheduled", name, { input: input ?? null, options: merged });
    return this.wait<T>(cid, "activity", merged.summary ? `${name} (${merged.summary})` : name);
  }

  private startTimer(ms: number, purpose: string): number {
    const { cid, recorded } = this.issue("TimerStarted", undefined, { ms, fire_at: this.init.taskNow + ms, purpose });
    this.timers.set(cid, recorded ? (recorded.data.fire_at as number) : this.init.taskNow + ms);
    return cid;
  }

  sleep(duration: Duration): Promise<void> {
    const ms = toMs(duration, "sleep duration");
    const cid = this.startTimer(ms, "sleep");
    return this.wait<void>(cid, "timer", `sleep ${duration}`);
  }

  waitForSignal<T = unknown>(name: string, options: WaitOptions = {}): Promise<T | undefined> {
    if (this.fatal) return Promise.reject(this.fatal);
    const buffered = this.signalBuffers.get(name);
    if (buffered?.length) return Promise.resolve(buffered.shift() as T);
    if (this.cancelRequested) return Promise.reject(new CancelledFailure());
    return handled(new Promise<T | undefined>((resolve, reject) => {
      const label = `signal ${name}${options.summary ? ` (${options.summary})` : ""}`;
      const waiter: SignalWaiter = { label, resolve: resolve as (v: unknown) => void, reject };
      if (options.timeout !== undefined) {
        const cid = this.startTimer(toMs(options.timeout, "signal timeout"), `signal ${name}`);
        waiter.timerCid = cid;
        this.pending.set(cid, {
          kind: "timer",
          label: `signal ${name} timeout`,
          resolve: () => {
            this.removeWaiter(name, waiter);
            resolve(undefined);
          },
          reject,
        });
      }
      this.signalWaiters.set(name, [...(this.signalWaiters.get(name) ?? []), waiter]);
    }));
  }

  private removeWaiter(name: string, waiter: SignalWaiter): void {
    const list = (this.signalWaiters.get(name) ?? []).filter((w) => w !== waiter);
    if (list.length) this.signalWaiters.set(name, list);
    else this.signalWaiters.delete(name);
  }

  onSignal(name: string, fn: (payload: any) => void): void {
    this.handlers.set(name, fn);
    // signals that arrived before the handler was registered are delivered now, in order
    const buffered = this.signalBuffers.get(name);
    if (buffered?.length) {
      this.signalBuffers.delete(name);
      for (const p of buffered) fn(p);
    }
  }

  condition(fn: () => boolean, options: WaitOptions = {}): Promise<boolean> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (fn()) return Promise.resolve(true);
    if (this.cancelRequested) return Promise.reject(new CancelledFailure());
    return handled(new Promise<boolean>((resolve, reject) => {
      const cond: Condition = { label: options.summary ?? "condition", fn, resolve, reject };
      if (options.timeout !== undefined) {
        const cid = this.startTimer(toMs(options.timeout, "condition timeout"), "condition");
        cond.timerCid = cid;
        this.pending.set(cid, {
          kind: "timer",
          label: "condition timeout",
          resolve: () => {
            this.conditions.splice(this.conditions.indexOf(cond), 1);
            resolve(false);
          },
          reject,
        });
      }
      this.conditions.push(cond);
    }));
  }

  async sideEffect<T>(fn: () => T | Promise<T>): Promise<T> {
    const { recorded } = this.issue("SideEffect", undefined, {});
    if (recorded) {
      if (recorded.data.error) throw Object.assign(new Error(recorded.data.error.message), { name: recorded.data.error.name });
      return recorded.data.value as T;
    }
    const ev = this.newEvents[this.newEvents.length - 1]!;
    const run = (async () => fn())();
    this.inflight.add(run);
    try {
      // replays return the recorded JSON: the first run must see exactly the same value
      const value = (await run) ?? null;
      const recorded = JSON.parse(JSON.stringify(value)) as T;
      ev.data = { value: recorded };
      return recorded;
    } catch (err) {
      ev.data = { error: toStoredError(err) };
      throw err;
    } finally {
      this.inflight.delete(run);
    }
  }

  child<T = unknown>(workflow: string | WorkflowDefinition, input?: unknown, options: ChildOptions = {}): Promise<T> {
    const name = typeof workflow === "string" ? workflow : workflow.name;
    if (!name) throw new Error("ctx.child: the workflow definition has no name — pass its name as a string");
    const id = options.id ?? `${this.workflowId}/${this.nextCid}`;
    const { cid, recorded } = this.issue("ChildStarted", name, { id, input: input ?? null });
    return this.wait<T>(cid, "child", `child ${name} ${recorded ? recorded.data.id : id}`);
  }

  all<T extends readonly unknown[]>(values: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
    return Promise.all(values) as Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }>;
  }

  now(): number {
    return this.time;
  }

  uuid(): string {
    return uuidFrom(this.random_);
  }

  random(): number {
    return this.random_();
  }

  getVersion(changeId: string, minSupported: number, maxSupported: number): number {
    if (this.fatal) throw this.fatal;
    let v = this.init.markers.get(changeId);
    if (v === undefined) {
      // a run that already executed past this point without the marker follows the old code
      v = this.replaying ? DEFAULT_VERSION : maxSupported;
      this.init.markers.set(changeId, v);
      if (!this.replaying) this.newEvents.push({ type: "VersionMarker", cid: null, data: { change_id: changeId, version: v } });
    }
    if (v < minSupported || v > maxSupported) {
      throw this.nondeterminism(`the run follows version ${v} of change '${changeId}', but the code supports only ${minSupported}..${maxSupported}`);
    }
    return v;
  }

  addCompensation(fn: () => unknown): void {
    this.compensations.push(fn);
  }

  async compensate(): Promise<void> {
    const errors: unknown[] = [];
    while (this.compensations.length) {
      const fn = this.compensations.pop()!;
      try {
        await fn();
      } catch (err) {
        if (this.fatal) throw this.fatal;
        errors.push(err); // keep compensating: one failed undo must not block the others
      }
    }
    if (errors.length) throw new AggregateError(errors, `${errors.length} compensation(s) failed: ${errors.map((e) => (e as Error).message).join("; ")}`);
  }

  get hasConditions(): boolean {
    return this.conditions.length > 0;
  }

  get hasCompensations(): boolean {
    return this.compensations.length > 0;
  }

  log(message: string, ...args: unknown[]): void {
    if (!this.replaying) this.init.log?.(`[${this.workflowId}] ${message}`, ...args);
  }

  // ---- applying history ---------------------------------------------------------------------

  /** Feed one resolution event (not a command) into the running code. */
  apply(ev: WorkflowEvent): void {
    this.time = ev.at;
    this.appliedSeq = ev.seq;
    switch (ev.type) {
      case "ActivityCompleted":
      case "TimerFired":
      case "ChildCompleted":
        return this.settle(ev, (p) => {
          if (p.kind === "timer") this.timers.delete(ev.cid!);
          p.resolve(ev.data?.result ?? null);
        });
      case "ActivityFailed":
        return this.settle(ev, (p) => p.reject(Object.assign(new ActivityFailure(p.label, ev.data.error), { cid: ev.cid })));
      case "ChildFailed":
        return this.settle(ev, (p) => p.reject(new ChildWorkflowFailure(ev.data.id, ev.data.error)));
      case "SignalReceived":
        return this.deliver(ev.data.name, ev.data.payload ?? null);
      case "CancelRequested":
        return this.cancel(ev.data?.reason ?? "cancelled");
      default:
        return;
    }
  }

  private settle(ev: WorkflowEvent, fn: (p: Pending) => void): void {
    const cid = ev.cid!;
    if (cid >= this.nextCid) {
      throw this.nondeterminism(`history event #${ev.seq} ${ev.type} answers command ${cid}, which the code has not issued at that point`, ev);
    }
    const p = this.pending.get(cid);
    if (!p) return; // already settled (cancelled, or a timer beaten by its signal)
    this.pending.delete(cid);
    fn(p);
  }

  private deliver(name: string, payload: unknown): void {
    const handler = this.handlers.get(name);
    if (handler) return handler(payload);
    const waiter = this.signalWaiters.get(name)?.[0];
    if (waiter) {
      this.removeWaiter(name, waiter);
      if (waiter.timerCid !== undefined) this.dropTimer(waiter.timerCid);
      return waiter.resolve(payload);
    }
    this.signalBuffers.set(name, [...(this.signalBuffers.get(name) ?? []), payload]);
  }

  private dropTimer(cid: number): void {
    this.pending.delete(cid);
    this.timers.delete(cid);
  }

  private cancel(reason: string): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    const failure = () => new CancelledFailure(reason);
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.timers.clear();
    for (const p of pending) p.reject(failure());
    for (const [, list] of this.signalWaiters) for (const w of list) w.reject(failure());
    this.signalWaiters.clear();
    for (const c of this.conditions.splice(0)) c.reject(failure());
  }

  /** Resolve every condition that became true; returns whether any did. */
  checkConditions(): boolean {
    let changed = false;
    for (const c of [...this.conditions]) {
      let ok: boolean;
      try {
        ok = c.fn();
      } catch (err) {
        this.conditions.splice(this.conditions.indexOf(c), 1);
        c.reject(err);
        changed = true;
        continue;
      }
      if (!ok) continue;
      this.conditions.splice(this.conditions.indexOf(c), 1);
      if (c.timerCid !== undefined) this.dropTimer(c.timerCid);
      c.resolve(true);
      changed = true;
    }
    return changed;
  }

  /** What the run waits on, for workflow:status. */
  waitingOn(): string | null {
    const parts = [...this.pending.values()].filter((p) => p.kind !== "timer" || !p.label.endsWith("timeout")).map((p) => (p.kind === "activity" ? `activity ${p.label}` : p.label));
    for (const list of this.signalWaiters.values()) for (const w of list) parts.push(w.label);
    for (const c of this.conditions) parts.push(c.label);
    return parts.length ? parts.join(", ") : null;
  }
}

/**
 * Workflow code may start an activity or child and never await it; when a cancel rejects it,
 * that must not become an unhandled rejection in the worker. Awaiting code still sees the error.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

function describe(type: EventType, name: string | undefined): string {
  switch (type) {
    case "ActivityScheduled":
      return `calls activity '${name}'`;
    case "TimerStarted":
      return "starts a timer (sleep or wait timeout)";
    case "SideEffect":
      return "calls sideEffect";
    case "ChildStarted":
      return `starts child workflow '${name}'`;
    default:
      return type;
  }
}
