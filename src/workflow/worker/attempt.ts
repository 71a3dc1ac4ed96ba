/**
 * One activity attempt: call the function with an ActivityContext, and abandon it when it runs
 * past its start-to-close timeout or misses its heartbeat timeout (the AbortSignal tells the
 * function to stop; the slot is freed either way).
 */
import { toMs } from "../duration.ts";
import { ActivityTimeoutError, NonRetryableError } from "../errors.ts";
import type { ActivityContext, ActivityDefinition, ActivityTask } from "../types.ts";

export interface AttemptHooks {
  /** Persist a heartbeat (details) and extend the lease. */
  heartbeat(details: unknown): void;
  log(message: string, ...args: unknown[]): void;
  workflowName: string;
  /** Aborted when the worker stops fast. */
  stopSignal?: AbortSignal;
}

export type AttemptResult = { ok: true; value: unknown } | { ok: false; error: unknown };

export async function runAttempt(task: ActivityTask, def: ActivityDefinition | undefined, hooks: AttemptHooks): Promise<AttemptResult> {
  if (!def) {
    return {
      ok: false,
      error: new NonRetryableError(`unknown activity '${task.name}' — define it with defineActivity in a file listed in workflow.files`, "UnknownActivity"),
    };
  }
  const options = { ...(def.options ?? {}), ...task.options };
  const controller = new AbortController();
  const onStop = () => controller.abort(new Error("worker stopping"));
  hooks.stopSignal?.addEventListener("abort", onStop, { once: true });
  let lastBeat = Date.now();
  const cleanups: Array<() => void> = [];
  const ctx: ActivityContext = {
    workflowId: task.runId,
    workflowName: hooks.workflowName,
    activityId: task.cid,
    attempt: task.attempt,
    idempotencyKey: `${task.runId}:${task.cid}`,
    heartbeatDetails: task.heartbeat,
    heartbeat(details?: unknown) {
      lastBeat = Date.now();
      hooks.heartbeat(details);
    },
    signal: controller.signal,
    log: hooks.log,
  };
  const guards: Promise<never>[] = [];
  if (options.startToCloseTimeout !== undefined) {
    const ms = toMs(options.startToCloseTimeout, "startToCloseTimeout");
    guards.push(
      new Promise<never>((_, reject) => {
        const t = setTimeout(() => reject(new ActivityTimeoutError(`activity ${task.name} ran longer than its start-to-close timeout (${ms} ms)`)), ms);
        cleanups.push(() => clearTimeout(t));
      }),
    );
  }
  if (options.heartbeatTimeout !== undefined) {
    const ms = toMs(options.heartbeatTimeout, "heartbeatTimeout");
    guards.push(
      new Promise<never>((_, reject) => {
        const check = setInterval(() => {
          if (Date.now() - lastBeat > ms) reject(new ActivityTimeoutError(`activity ${task.name} sent no heartbeat for ${ms} ms`));
        }, Math.max(10, Math.min(1000, ms / 4)));
        cleanups.push(() => clearInterval(check));
      }),
    );
  }
  guards.push(
    new Promise<never>((_, reject) => {
      if (controller.signal.aborted) reject(controller.signal.reason);
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    }),
  );
  try {
    const value = await Promise.race([(async () => def.run(task.input, ctx))(), ...guards]);
    return { ok: true, value };
  } catch (error) {
    if (!controller.signal.aborted) controller.abort(error);
    return { ok: false, error };
  } finally {
    for (const c of cleanups) c();
    hooks.stopSignal?.removeEventListener("abort", onStop);
  }
}
