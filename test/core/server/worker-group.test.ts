import { describe, expect, test } from "bun:test";
import { backoffMs, BACKOFF_MAX_MS } from "../../../src/core/server/worker-group.ts";

describe("worker restart backoff", () => {
  test("doubles from 100 ms and is capped at 5 s", () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([100, 200, 400, 800]);
    expect(backoffMs(30)).toBe(BACKOFF_MAX_MS);
  });
});
