/**
 * Contracts of the workflow namespace: what user code authors (WorkflowDefinition,
 * ActivityDefinition, the contexts they receive) and what the engine stores (events, runs).
 * Nothing here imports an implementation.
 */

/** Milliseconds, or a string such as "500ms", "30s", "5m", "1h", "1d". */
export type Duration = number | string;

/** Temporal's RetryPolicy, with Temporal's names. */
export interface RetryPolicy {
  /** First backoff; default 1 s. */
  initialInterval?: Duration;
  /** Multiplier per attempt; default 2. */
  backoffCoefficient?: number;
  /** Cap on the backoff; default 100 × initialInterval. */
  maximumInterval?: Duration;
  /** Attempts in total, the first included; 0 = unlimited. Default from `workflow.activity_retry`. */
  maximumAttempts?: number;
  /** Error names (`err.name`) that fail the activity at once. */
  nonRetryableErrors?: string[];
}

export interface ActivityOptions {
  /** Shown by workflow:status while the activity runs (YAML steps put the step name here). */
  summary?: string;
  retry?: RetryPolicy;
  /** Longest a single attempt may run; the attempt is abandoned and counts as failed. */
  startToCloseTimeout?: Duration;
  /** Longest from scheduling to the final result, retries included; no retry starts after it. */
  scheduleToCloseTimeout?: Duration;
  /** An attempt that does not call `heartbeat()` this often is abandoned (and retried). */
  heartbeatTimeout?: Duration;
}

export interface ChildOptions {
  /** Workflow id of the child; default `<parent id>/<call index>`. */
  id?: string;
}

export interface WaitOptions {
  /** Shown by workflow:status while waiting. */
  summary?: string;
  /** Give up after this long: waitForSignal resolves `undefined`, condition resolves `false`. */
  timeout?: Duration;
}

/** What a workflow function receives. Every method is deterministic on replay. */
export interface WorkflowContext {
  /** This run's workflow id. */
  readonly workflowId: string;
  readonly workflowName: string;
  /** True once `workflow:cancel` reached the workflow (compensations are running). */
  readonly cancelRequested: boolean;
  /** Run an activity (a side effect) durably: once its result is recorded it never runs again. */
  activity<T = unknown>(name: string, input?: unknown, options?: ActivityOptions): Promise<T>;
  /** A durable timer: survives restarts and wakes on time. */
  sleep(duration: Duration, options?: { summary?: string }): Promise<void>;
  /** The next signal `name` (buffered if it came earlier); `undefined` on timeout. */
  waitForSignal<T = unknown>(name: string, options?: WaitOptions): Promise<T | undefined>;
  /** Handle every signal `name` with `fn` instead of buffering it (use with `condition`). */
  onSignal(name: string, fn: (payload: any) => void): void;
  /** Answer `workflow:query ID NAME` from the replayed state (read-only; must not call ctx). */
  onQuery(name: string, fn: (args: any) => unknown): void;
  /** Resolves true once `fn()` is true (re-checked after every event), false on timeout. */
  condition(fn: () => boolean, options?: WaitOptions): Promise<boolean>;
  /** Run `fn` once and record its value; replays return the recorded value. */
  sideEffect<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Start a child workflow and wait for its result. */
  child<T = unknown>(workflow: string | WorkflowDefinition, input?: unknown, options?: ChildOptions): Promise<T>;
  /** Promise.all for workflow promises (activities, timers, children) run in parallel. */
  all<T extends readonly unknown[]>(values: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }>;
  /** Deterministic time: when the event that woke the workflow happened (ms since epoch). */
  now(): number;
  /** Deterministic UUID (v4 format), the same on every replay. */
  uuid(): string;
  /** Deterministic random number in [0, 1). */
  random(): number;
  /** Which version of a code change this run follows; see docs/workflow.md "Versioning". */
  getVersion(changeId: string, minSupported: number, maxSupported: number): number;
  /**
   * End this run and start it again under the same id with `input` and an empty history (bounds
   * the history of long-lived loops). Never returns. The old run stays as `<id>#<n>`.
   */
  continueAsNew(input?: unknown): never;
  /** Register a compensation; on failure or cancel they run in reverse order (saga). */
  addCompensation(fn: () => unknown | Promise<unknown>): void;
  /** Run the registered compensations now, in reverse order, and clear them. */
  compensate(): Promise<void>;
  /** Log (only on first execution, never on replay). */
  log(message: string, ...args: unknown[]): void;
}

export type WorkflowFn<I = any, O = any> = (ctx: WorkflowContext, input: I) => Promise<O> | O;

export interface WorkflowDefinition<I = any, O = any> {
  readonly kind: "securely.workflow";
  /** Name used by `workflow:run NAME` and `ctx.child(NAME)`; default: the export's name. */
  name?: string;
  run: WorkflowFn<I, O>;
  /** Default options of every activity this workflow calls. */
  activityOptions?: ActivityOptions;
  /** Activities only this workflow uses, by name. */
  activities?: Record<string, ActivityFn | ActivityDefinition>;
}

/** What an activity function receives besides its input. */
export interface ActivityContext {
  workflowId: string;
  workflowName: string;
  /** The activity's index in its workflow (stable across attempts). */
  activityId: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** `<workflow id>:<activity id>`: the same on every attempt — pass it to the systems you call. */
  idempotencyKey: string;
  /** Details the previous attempt passed to heartbeat(), if any. */
  heartbeatDetails: unknown;
  /** Report progress; extends the lease and keeps `heartbeatTimeout` from firing. */
  heartbeat(details?: unknown): void;
  /** Aborted when the attempt times out or the worker stops. */
  signal: AbortSignal;
  log(message: string, ...args: unknown[]): void;
}

export type ActivityFn<I = any, O = any> = (input: I, ctx: ActivityContext) => Promise<O> | O;

export interface ActivityDefinition<I = any, O = any> {
  readonly kind: "securely.activity";
  name?: string;
  run: ActivityFn<I, O>;
  options?: ActivityOptions;
}

/** Error as stored in history and shown by workflow:status. */
export interface StoredError {
  name: string;
  message: string;
  stack?: string;
  nonRetryable?: boolean;
  /** Where a non-determinism error was found, or the activity that failed. */
  details?: unknown;
}

export type EventType =
  | "WorkflowStarted"
  | "ActivityScheduled"
  | "ActivityCompleted"
  | "ActivityFailed"
  | "TimerStarted"
  | "TimerFired"
  | "SideEffect"
  | "VersionMarker"
  | "ChildStarted"
  | "ChildCompleted"
  | "ChildFailed"
  | "SignalReceived"
  | "CancelRequested"
  | "WorkflowCompleted"
  | "WorkflowFailed"
  | "WorkflowCancelled"
  | "WorkflowTerminated"
  | "WorkflowRetried"
  | "WorkflowContinuedAsNew";

/** One entry of a run's append-only history. `cid` numbers the workflow's commands in call order. */
export interface WorkflowEvent {
  seq: number;
  type: EventType;
  cid: number | null;
  at: number;
  data: any;
}

export type NewEvent = Omit<WorkflowEvent, "seq" | "at"> & { at?: number };

/** `continued`: the run called ctx.continueAsNew; its id now names the next run, this one is kept as `ID#N`. */
export type RunStatus = "running" | "completed" | "failed" | "cancelled" | "terminated" | "continued";
export const RUN_STATUSES: RunStatus[] = ["running", "completed", "failed", "cancelled", "terminated", "continued"];

export interface RunRecord {
  id: string;
  name: string;
  input: unknown;
  status: RunStatus;
  output: unknown;
  error: StoredError | null;
  parent_id: string | null;
  parent_cid: number | null;
  /** What the run waits on, as of its last workflow task ("activity charge-card", "signal approve"). */
  waiting_on: string | null;
  /** When a workflow task is due (null: waits on something external). */
  wake_at: number | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

/** One activity attempt to run, as a task runner hands it to a worker. */
export interface ActivityTask {
  id: number;
  runId: string;
  cid: number;
  name: string;
  input: unknown;
  options: ActivityOptions;
  /** 1 for the first attempt (incremented when claimed). */
  attempt: number;
  scheduledAt: number;
  heartbeat: unknown;
  leaseOwner: string;
}

/**
 * Where activity tasks wait and who holds them: the local task table first, the queue namespace
 * when it runs the activities. Writes are called inside the engine's transaction, so scheduling
 * an activity commits with the history event that asked for it.
 */
export interface ActivityQueue {
  enqueue(task: { runId: string; cid: number; name: string; input: unknown; options: ActivityOptions }, now: number): void;
  /** Lease up to `limit` due tasks (attempt + 1); a task whose lease ran out is due again. */
  claim(owner: string, now: number, limit: number, leaseMs: number): ActivityTask[];
  /** Drop the task after its final outcome; false when another owner leased it meanwhile. */
  remove(task: ActivityTask): boolean;
  /** Another attempt at `availableAt`; the error is kept for workflow:status. */
  retry(task: ActivityTask, availableAt: number, error: string): void;
  /** Extend the lease of a running task (long activities, heartbeats); false when the task is gone (run ended). */
  extend(task: ActivityTask, leaseUntil: number, heartbeat?: unknown): boolean;
  /** Drop a run's tasks except those of commands in `keep`; running attempts of dropped ones are aborted. */
  dropOthers(runId: string, keep: Set<number>): void;
  /** Drop every task of a run (terminated, cancelled or finished). */
  dropRun(runId: string): void;
  releaseOwner(owner: string): number;
  leaseOwners(): string[];
  /** Tasks of a run, for workflow:status. */
  ofRun(runId: string): Array<{ cid: number; name: string; attempt: number; available_at: number; last_error: string | null; leased: boolean }>;
  /** When the next task becomes due (null: none waiting). */
  nextDue(now: number): number | null;
}
