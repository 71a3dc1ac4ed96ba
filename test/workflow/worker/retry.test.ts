import { describe, expect, test } from "bun:test";
import { backoffMs, decideRetry, resolveRetry } from "../../../src/workflow/worker/retry.ts";

const defaults = { initial_interval: 1, backoff_coefficient: 2, maximum_interval: 100, maximum_attempts: 3 };
const err = { name: "Error", message: "x" };

describe("retry policy", () => {
  test("defaults come from config (seconds); call options (ms or strings) win", () => {
    expect(resolveRetry({}, defaults)).toEqual({ initialMs: 1000, coefficient: 2, maxMs: 100_000, maxAttempts: 3, nonRetryable: [] });
    expect(resolveRetry({ retry: { initialInterval: "5s", maximumInterval: 20_000, maximumAttempts: 0, backoffCoefficient: 3 } }, defaults)).toEqual({
      initialMs: 5000,
      coefficient: 3,
      maxMs: 20_000,
      maxAttempts: 0,
      nonRetryable: [],
    });
    expect(resolveRetry({ retry: { initialInterval: 10 } }, { ...defaults, maximum_interval: 0 }).maxMs).toBe(1000); // 100 × initial
  });

  test("backoff grows by the coefficient and is capped", () => {
    const p = resolveRetry({ retry: { initialInterval: 100, maximumInterval: 500 } }, defaults);
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(p, a))).toEqual([100, 200, 400, 500, 500]);
  });

  test("decisions: retry, attempts used, non-retryable (flag or name), schedule-to-close", () => {
    const p = resolveRetry({ retry: { initialInterval: 100, nonRetryableErrors: ["Fatal"] } }, defaults);
    expect(decideRetry(p, err, 1, 0, Infinity)).toEqual({ retryInMs: 100 });
    expect(decideRetry(p, err, 3, 0, Infinity)).toEqual({ final: "3 of 3 attempts used" });
    expect(decideRetry(p, { ...err, nonRetryable: true }, 1, 0, Infinity)).toEqual({ final: "non-retryable error" });
    expect(decideRetry(p, { ...err, name: "Fatal" }, 1, 0, Infinity)).toEqual({ final: "Fatal is listed in nonRetryableErrors" });
    expect(decideRetry(p, err, 1, 0, 50)).toEqual({ final: "schedule-to-close timeout reached" });
    expect(decideRetry(resolveRetry({ retry: { maximumAttempts: 0 } }, defaults), err, 99, 0, Infinity)).toEqual({ retryInMs: 100_000 });
  });
});
