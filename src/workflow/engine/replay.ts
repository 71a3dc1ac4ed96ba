/**
 * Deterministic replay: run the workflow function from the top against its history. Resolution
 * events (activity results, timers, signals, cancel) are applied one at a time in history order,
 * and after each the code runs until it blocks again, so every replay walks the same states.
 * Commands the code issues past the end of history are the new events of this workflow task.
 */
import { CancelledFailure, toStoredError } from "../errors.ts";
import type { NewEvent, StoredError, WorkflowDefinition, WorkflowEvent } from "../types.ts";
import { ReplayContext } from "./context.ts";

/** Events that record a command the code issued (matched by cid, never "applied"). */
export const COMMAND_TYPES = new Set(["ActivityScheduled", "TimerStarted", "SideEffect", "ChildStarted"]);
/** Events that answer a command or come from outside, applied in order. */
export const RESOLUTION_TYPES = new Set(["ActivityCompleted", "ActivityFailed", "TimerFired", "ChildCompleted", "ChildFailed", "SignalReceived", "CancelRequested"]);
export const TERMINAL_TYPES = new Set(["WorkflowCompleted", "WorkflowFailed", "WorkflowCancelled", "WorkflowTerminated"]);

export type Outcome =
  | { kind: "waiting" }
  | { kind: "completed"; output: unknown }
  | { kind: "failed"; error: StoredError; failedAfterSeq: number }
  | { kind: "cancelled"; error: StoredError }
  | { kind: "nondeterminism"; error: StoredError };

export interface ReplayInput {
  runId: string;
  definition: WorkflowDefinition;
  workflowName: string;
  history: WorkflowEvent[];
  /** Real time of this task (new timers count from it). */
  taskNow: number;
  /** Highest seq the previous workflow task replayed (getVersion and log use it). */
  taskSeq: number;
  log?: (message: string, ...args: unknown[]) => void;
}

export interface ReplayResult {
  outcome: Outcome;
  newEvents: NewEvent[];
  /** Timers still pending after this task: cid → fire_at. */
  timers: Map<number, number>;
  waitingOn: string | null;
  /** Highest history seq this replay applied. */
  replayedSeq: number;
}

/**
 * History minus the ranges `workflow:retry` voided: a WorkflowRetried event with `from_seq`
 * makes replay skip every event from `from_seq` up to itself (Temporal's reset, in place).
 */
export function effectiveHistory(history: WorkflowEvent[]): WorkflowEvent[] {
  const ranges: Array<[number, number]> = [];
  for (const ev of history) if (ev.type === "WorkflowRetried") ranges.push([ev.data.from_seq as number, ev.seq]);
  if (ranges.length === 0) return history;
  return history.filter((ev) => ev.type !== "WorkflowRetried" && !ranges.some(([a, b]) => ev.seq >= a && ev.seq < b));
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Let the workflow code run until it blocks on something only history can answer. */
async function runToBlock(ctx: ReplayContext): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    await tick(); // every microtask the last event unblocked has run
    if (ctx.inflight.size) {
      await Promise.allSettled([...ctx.inflight]);
      continue;
    }
    if (ctx.fatal || !ctx.checkConditions()) return;
  }
}

export async function replay(inp: ReplayInput): Promise<ReplayResult> {
  const events = effectiveHistory(inp.history);
  const started = events[0];
  if (!started || started.type !== "WorkflowStarted") throw new Error(`workflow ${inp.runId}: history does not start with WorkflowStarted`);
  const commands = new Map<number, WorkflowEvent>();
  const markers = new Map<string, number>();
  for (const ev of events) {
    if (COMMAND_TYPES.has(ev.type)) commands.set(ev.cid!, ev);
    else if (ev.type === "VersionMarker") markers.set(ev.data.change_id, ev.data.version);
  }
  const ctx = new ReplayContext({
    workflowId: inp.runId,
    workflowName: inp.workflowName,
    definition: inp.definition,
    commands,
    markers,
    taskNow: inp.taskNow,
    taskSeq: inp.taskSeq,
    log: inp.log,
  });
  ctx.time = started.at;
  ctx.appliedSeq = started.seq;

  let failedAfterSeq: number | undefined;
  let compensationError: unknown;
  let settled: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  const body = (async () => {
    try {
      return await inp.definition.run(ctx, started.data.input);
    } catch (err) {
      failedAfterSeq ??= ctx.appliedSeq;
      if (ctx.fatal) throw ctx.fatal;
      if (ctx.hasCompensations) {
        try {
          await ctx.compensate();
        } catch (cerr) {
          if (ctx.fatal) throw ctx.fatal;
          compensationError = cerr;
        }
      }
      throw err;
    }
  })();
  body.then(
    (value) => (settled = { ok: true, value }),
    (error) => (settled = { ok: false, error }),
  );

  await runToBlock(ctx);
  for (let i = 1; i < events.length && !ctx.fatal; i++) {
    const ev = events[i]!;
    if (!RESOLUTION_TYPES.has(ev.type)) continue;
    try {
      ctx.apply(ev);
    } catch {
      break; // non-determinism: ctx.fatal holds it
    }
    await runToBlock(ctx);
  }
  if (!ctx.fatal) {
    // a command in history the code never issued again: the code changed under the run
    for (const [cid, ev] of commands) {
      if (cid >= ctx.nextCid) {
        ctx.nondeterminism(`history event #${ev.seq} records command ${cid} (${ev.type}${ev.data?.name ? ` '${ev.data.name}'` : ""}), which the code no longer issues`, ev);
        break;
      }
    }
  }

  const result: ReplayResult = { outcome: { kind: "waiting" }, newEvents: ctx.newEvents, timers: ctx.timers, waitingOn: ctx.waitingOn(), replayedSeq: events[events.length - 1]!.seq };
  const done = settled as typeof settled;
  if (ctx.fatal) result.outcome = { kind: "nondeterminism", error: toStoredError(ctx.fatal) };
  else if (done?.ok) result.outcome = { kind: "completed", output: done.value === undefined ? null : done.value };
  else if (done) {
    const error = toStoredError(done.error);
    if (compensationError) error.message += ` (and ${(compensationError as Error).message})`;
    if (ctx.cancelRequested && done.error instanceof CancelledFailure) result.outcome = { kind: "cancelled", error };
    else result.outcome = { kind: "failed", error, failedAfterSeq: failedAfterSeq ?? ctx.appliedSeq };
  }
  else if (ctx.newEvents.length === 0 && ctx.pending.size === 0 && ctx.signalWaiters.size === 0 && !ctx.hasConditions) {
    // waits on nothing the engine can deliver: it would sleep forever without telling anyone
    result.outcome = {
      kind: "nondeterminism",
      error: {
        name: "WorkflowBlockedError",
        message: `workflow ${inp.runId} (${inp.workflowName}) is waiting on something that is not a ctx call (real I/O, setTimeout or a foreign promise in workflow code?) — move it into an activity, then workflow:retry`,
      },
    };
  }
  if (result.outcome.kind !== "waiting") result.waitingOn = null;
  return result;
}
