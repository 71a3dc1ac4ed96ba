import { describe, expect, test } from "bun:test";
import { isDue, lastDueIn, nextRun } from "../../../src/schedule/cron/next.ts";
import { parseCron } from "../../../src/schedule/cron/parse.ts";

const at = (iso: string) => Date.parse(iso);
const next = (expr: string, from: string, tz = "UTC") => {
  const t = nextRun(parseCron(expr), at(from), tz);
  return t === undefined ? undefined : new Date(t).toISOString();
};

describe("nextRun", () => {
  test.each([
    ["* * * * *", "2026-01-01T10:00:30Z", "2026-01-01T10:01:00.000Z"],
    ["* * * * *", "2026-01-01T10:00:00Z", "2026-01-01T10:01:00.000Z"], // strictly after
    ["*/15 * * * *", "2026-01-01T10:01:00Z", "2026-01-01T10:15:00.000Z"],
    ["0 2 * * *", "2026-01-01T03:00:00Z", "2026-01-02T02:00:00.000Z"],
    ["30 8 * * 1", "2026-01-01T00:00:00Z", "2026-01-05T08:30:00.000Z"], // 2026-01-01 is a Thursday
    ["0 0 1 */3 *", "2026-01-02T00:00:00Z", "2026-04-01T00:00:00.000Z"],
    ["0 0 L * *", "2026-02-03T00:00:00Z", "2026-02-28T00:00:00.000Z"],
    ["0 0 L * *", "2028-02-03T00:00:00Z", "2028-02-29T00:00:00.000Z"], // leap year
    ["0 9 * * 1#2", "2026-01-01T00:00:00Z", "2026-01-12T09:00:00.000Z"], // second Monday
    ["0 9 * * 5L", "2026-01-01T00:00:00Z", "2026-01-30T09:00:00.000Z"], // last Friday
    ["0 0 13 * 5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.000Z"], // day 13 OR a Friday (Vixie)
    ["*/10 * * * * *", "2026-01-01T10:00:01Z", "2026-01-01T10:00:10.000Z"],
    ["0 0 1 1 *", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00.000Z"],
  ])("%s after %s is %s", (expr, from, expected) => {
    expect(next(expr, from)).toBe(expected);
  });

  test("an impossible date never runs", () => {
    expect(next("0 0 30 2 *", "2026-01-01T00:00:00Z")).toBeUndefined();
  });

  test("time zones: the fields are wall-clock time in the zone", () => {
    expect(next("0 2 * * *", "2026-01-01T00:00:00Z", "Europe/Paris")).toBe("2026-01-01T01:00:00.000Z");
    expect(next("0 9 * * *", "2026-07-01T00:00:00Z", "America/New_York")).toBe("2026-07-01T13:00:00.000Z");
    expect(next("30 0 * * *", "2026-01-01T00:00:00Z", "Asia/Kathmandu")).toBe("2026-01-01T18:45:00.000Z"); // +05:45
  });

  test("DST: a skipped local time does not run that day; a repeated one runs at each occurrence", () => {
    // Europe/Paris springs forward 2026-03-29 02:00 → 03:00
    expect(next("30 2 * * *", "2026-03-28T12:00:00Z", "Europe/Paris")).toBe("2026-03-30T00:30:00.000Z");
    // and falls back 2026-10-25 03:00 → 02:00: 02:30 happens twice
    const first = next("30 2 * * *", "2026-10-24T12:00:00Z", "Europe/Paris")!;
    expect(first).toBe("2026-10-25T00:30:00.000Z");
    expect(next("30 2 * * *", first, "Europe/Paris")).toBe("2026-10-25T01:30:00.000Z");
  });
});

describe("isDue and lastDueIn", () => {
  test("isDue checks the minute (and the second for 6 fields)", () => {
    expect(isDue(parseCron("*/5 * * * *"), at("2026-01-01T10:05:42Z"), "UTC")).toBe(true);
    expect(isDue(parseCron("*/5 * * * *"), at("2026-01-01T10:06:00Z"), "UTC")).toBe(false);
    expect(isDue(parseCron("*/5 * * * * *"), at("2026-01-01T10:06:05Z"), "UTC")).toBe(true);
    expect(isDue(parseCron("*/5 * * * * *"), at("2026-01-01T10:06:06Z"), "UTC")).toBe(false);
  });

  test("lastDueIn gives the latest tick in (from, to], once", () => {
    const e = parseCron("* * * * *");
    expect(lastDueIn(e, at("2026-01-01T10:00:00Z"), at("2026-01-01T10:03:10Z"), "UTC")).toBe(at("2026-01-01T10:03:00Z"));
    expect(lastDueIn(e, at("2026-01-01T10:03:00Z"), at("2026-01-01T10:03:59Z"), "UTC")).toBeUndefined();
    expect(lastDueIn(e, at("2026-01-01T10:02:59.999Z"), at("2026-01-01T10:03:00Z"), "UTC")).toBe(at("2026-01-01T10:03:00Z"));
  });
});
