/**
 * Errors of the workflow namespace. User-facing command failures are SecurelyErrors (one line:
 * what, where, what to do); errors that travel through a workflow (an activity's failure, a
 * cancellation) are plain Errors with a stable `name`, because they are stored in history and
 * re-thrown into workflow code on replay.
 */
import { SecurelyError } from "../core/errors.ts";
import type { StoredError } from "./types.ts";

export class WorkflowError extends SecurelyError {
  static unknownWorkflow(name: string, known: string[]): WorkflowError {
    return new WorkflowError(`unknown workflow '${name}'`, {
      code: "WORKFLOW_UNKNOWN",
      hint: known.length ? `known workflows: ${known.join(", ")}` : "define one under `workflows:` or in a file listed in `workflow.files`",
    });
  }
  static notFound(id: string): WorkflowError {
    return new WorkflowError(`workflow run '${id}' not found`, { code: "WORKFLOW_NOT_FOUND", hint: "see securely workflow:list" });
  }
  static duplicateId(id: string, status: string): WorkflowError {
    return new WorkflowError(`workflow id '${id}' is already used by a ${status} run`, {
      code: "WORKFLOW_DUPLICATE_ID",
      hint: status === "running" ? "pick another --id, or cancel/terminate the running one" : "pick another --id, or pass --reuse to start it again",
    });
  }
  static notRunning(id: string, status: string, what: string): WorkflowError {
    return new WorkflowError(`cannot ${what} workflow '${id}': it is ${status}`, { code: "WORKFLOW_NOT_RUNNING" });
  }
}

/** Thrown by an activity to fail it without retries (Temporal's non-retryable ApplicationFailure). */
export class NonRetryableError extends Error {
  readonly nonRetryable = true;
  constructor(message: string, name = "NonRetryableError") {
    super(message);
    this.name = name;
  }
}

/** What `await ctx.activity(...)` throws once the activity failed for good. */
export class ActivityFailure extends Error {
  constructor(readonly activity: string, readonly cause: StoredError) {
    super(`activity ${activity} failed: ${cause.message}`);
    this.name = "ActivityFailure";
  }
}

/** What `await ctx.child(...)` throws when the child failed. */
export class ChildWorkflowFailure extends Error {
  constructor(readonly childId: string, readonly cause: StoredError) {
    super(`child workflow ${childId} failed: ${cause.message}`);
    this.name = "ChildWorkflowFailure";
  }
}

/** Thrown into pending waits when the run is cancelled; compensations run after it. */
export class CancelledFailure extends Error {
  constructor(reason = "cancelled") {
    super(reason);
    this.name = "CancelledFailure";
  }
}

/** Thrown by ctx.continueAsNew: unwinds the workflow function; the engine starts the next run. */
export class ContinueAsNew extends Error {
  constructor(readonly input: unknown) {
    super("continue as new");
    this.name = "ContinueAsNew";
  }
}

/** An attempt that ran longer than its start-to-close timeout or missed its heartbeat. */
export class ActivityTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ActivityTimeoutError";
  }
}

/**
 * The code under a running workflow no longer issues the commands its history recorded.
 * The run is parked (status failed, history untouched) until the code is fixed and
 * `workflow:retry` replays it.
 */
export class NonDeterminismError extends Error {
  constructor(message: string, readonly event?: { seq: number; type: string; cid: number | null; name?: string }) {
    super(message);
    this.name = "NonDeterminismError";
  }
}

export function toStoredError(err: unknown): StoredError {
  if (err instanceof Error) {
    const out: StoredError = { name: err.name, message: err.message };
    if (err.stack) out.stack = err.stack.split("\n").slice(0, 12).join("\n");
    if ((err as any).nonRetryable) out.nonRetryable = true;
    if (err instanceof NonDeterminismError && err.event) out.details = err.event;
    if (err instanceof ActivityFailure) out.details = { cid: (err as { cid?: number }).cid, activity: err.activity, cause: err.cause };
    if (err instanceof ChildWorkflowFailure) out.details = { child: err.childId, cause: err.cause };
    return out;
  }
  return { name: "Error", message: typeof err === "string" ? err : JSON.stringify(err) ?? String(err) };
}
