/**
 * Built-in activity `securely.job` (YAML `job:` steps): push a job to the queue namespace and
 * return its id once the push is committed. The job then runs on its own queue:work; the workflow
 * does not wait for it (use a wait_for_signal step if it must).
 */
import type { App } from "../../core/app.ts";
import { openQueue } from "../../queue/index.ts";
import { NonRetryableError } from "../errors.ts";
import { defineActivity } from "../sdk.ts";
import type { ActivityDefinition } from "../types.ts";

export interface JobInput {
  handler: string;
  payload?: unknown;
  queue?: string;
}

export function jobActivity(app: App): ActivityDefinition<JobInput> {
  return defineActivity<JobInput>("securely.job", async (input, ctx) => {
    if (!input?.handler) throw new NonRetryableError("securely.job: input.handler is required");
    let id: number | null;
    try {
      // the idempotency key makes a retried attempt skip a push that already committed
      id = await openQueue(app).push(input.handler, input.payload ?? null, { queue: input.queue, uniqueKey: `workflow:${ctx.idempotencyKey}`, uniqueFor: 86_400 });
    } catch (err) {
      throw new NonRetryableError((err as Error).message, "JobRefused"); // unknown handler, bad payload: retrying will not help
    }
    return { job_id: id, handler: input.handler };
  });
}
