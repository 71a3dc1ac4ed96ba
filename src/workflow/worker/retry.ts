/**
 * Temporal's retry policy: delay = initial × coefficient^(attempt-1), capped at the maximum
 * interval; non-retryable error names and an attempt cap end retries, and so does a
 * schedule-to-close deadline the next attempt would start after.
 */
import { toMs } from "../duration.ts";
import type { ActivityOptions, StoredError } from "../types.ts";

export interface ResolvedRetry {
  initialMs: number;
  coefficient: number;
  maxMs: number;
  maxAttempts: number;
  nonRetryable: string[];
}

export interface RetryDefaults {
  initial_interval: number;
  backoff_coefficient: number;
  maximum_interval: number;
  maximum_attempts: number;
}

/** Merge an activity's policy over the config defaults (`workflow.activity_retry`, seconds). */
export function resolveRetry(options: ActivityOptions, defaults: RetryDefaults): ResolvedRetry {
  const r = options.retry ?? {};
  const initialMs = r.initialInterval !== undefined ? toMs(r.initialInterval, "retry.initialInterval") : defaults.initial_interval * 1000;
  const maxMs = r.maximumInterval !== undefined ? toMs(r.maximumInterval, "retry.maximumInterval") : defaults.maximum_interval > 0 ? defaults.maximum_interval * 1000 : initialMs * 100;
  return {
    initialMs,
    coefficient: r.backoffCoefficient ?? defaults.backoff_coefficient,
    maxMs,
    maxAttempts: r.maximumAttempts ?? defaults.maximum_attempts,
    nonRetryable: r.nonRetryableErrors ?? [],
  };
}

export function backoffMs(policy: ResolvedRetry, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * policy.coefficient ** Math.max(0, attempt - 1));
}

/** undefined: retry after the returned delay; otherwise the reason the failure is final. */
export function decideRetry(
  policy: ResolvedRetry,
  error: StoredError,
  attempt: number,
  now: number,
  deadline: number,
): { retryInMs: number } | { final: string } {
  if (error.nonRetryable) return { final: "non-retryable error" };
  if (policy.nonRetryable.includes(error.name)) return { final: `${error.name} is listed in nonRetryableErrors` };
  if (policy.maxAttempts > 0 && attempt >= policy.maxAttempts) return { final: `${attempt} of ${policy.maxAttempts} attempts used` };
  const delay = backoffMs(policy, attempt);
  if (now + delay >= deadline) return { final: "schedule-to-close timeout reached" };
  return { retryInMs: delay };
}
