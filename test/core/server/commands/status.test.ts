import { describe, expect, test } from "bun:test";
import { formatDuration } from "../../../../src/core/server/commands/status.ts";

describe("status", () => {
  test("formatDuration", () => {
    expect(formatDuration(5)).toBe("5s");
    expect(formatDuration(3725)).toBe("1h 2m 5s");
    expect(formatDuration(90061)).toBe("1d 1h 1m");
  });
});
