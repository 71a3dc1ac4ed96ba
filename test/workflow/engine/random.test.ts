import { describe, expect, test } from "bun:test";
import { seededRandom, uuidFrom } from "../../../src/workflow/engine/random.ts";
import { formatMs, toMs } from "../../../src/workflow/duration.ts";

describe("deterministic randomness", () => {
  test("the same seed gives the same sequence; uuids are v4-shaped", () => {
    const a = seededRandom("wf-1");
    const b = seededRandom("wf-1");
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    expect(seededRandom("wf-2")()).not.toBe(seededRandom("wf-1")());
    expect(uuidFrom(seededRandom("x"))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("durations", () => {
  test("milliseconds or unit strings; bad values name the problem", () => {
    expect(["500ms", "30s", "5m", "1h", "1d", "2w", 250, "1.5s"].map((d) => toMs(d))).toEqual([500, 30_000, 300_000, 3_600_000, 86_400_000, 1_209_600_000, 250, 1500]);
    expect(() => toMs("soon", "sleep duration")).toThrow('invalid sleep duration "soon"');
    expect(() => toMs(-1)).toThrow("invalid duration -1");
    expect([900, 61_000, 3_660_000, 90_000_000].map(formatMs)).toEqual(["900ms", "1m 1s", "1h 1m", "1d 1h"]);
  });
});
