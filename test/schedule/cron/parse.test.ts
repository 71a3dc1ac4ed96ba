import { describe, expect, test } from "bun:test";
import { parseCron } from "../../../src/schedule/cron/parse.ts";

const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

describe("parseCron", () => {
  test("five fields: lists, ranges, steps, names; seconds default to 0", () => {
    const e = parseCron("*/15 9-17 1,15 JAN-mar mon-FRI");
    expect(e.hasSeconds).toBe(false);
    expect(sorted(e.seconds)).toEqual([0]);
    expect(sorted(e.minutes)).toEqual([0, 15, 30, 45]);
    expect(sorted(e.hours)).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(sorted(e.daysOfMonth)).toEqual([1, 15]);
    expect(sorted(e.months)).toEqual([1, 2, 3]);
    expect(sorted(e.daysOfWeek)).toEqual([1, 2, 3, 4, 5]);
  });

  test("six fields put seconds first", () => {
    const e = parseCron("*/20 0 12 * * *");
    expect(e.hasSeconds).toBe(true);
    expect(sorted(e.seconds)).toEqual([0, 20, 40]);
    expect(sorted(e.minutes)).toEqual([0]);
    expect(sorted(e.hours)).toEqual([12]);
  });

  test("N/S steps from N to the end; ranges with steps; weekday 7 is sunday", () => {
    expect(sorted(parseCron("7/20 * * * *").minutes)).toEqual([7, 27, 47]);
    expect(sorted(parseCron("10-40/10 * * * *").minutes)).toEqual([10, 20, 30, 40]);
    expect(sorted(parseCron("* * * * 5-7").daysOfWeek)).toEqual([0, 5, 6]);
  });

  test("macros, L, nth and last weekdays, ?", () => {
    expect(parseCron("@daily").source).toBe("@daily");
    expect(sorted(parseCron("@hourly").minutes)).toEqual([0]);
    const l = parseCron("0 0 L * ?");
    expect(l.lastDayOfMonth).toBe(true);
    expect(l.dowAny).toBe(true);
    expect(parseCron("0 0 * * 1#2").nthWeekdays).toEqual([[1, 2]]);
    expect(sorted(parseCron("0 0 * * 5L").lastWeekdays)).toEqual([5]);
  });

  test.each([
    ["* * * *", "has 4 fields, expected 5 or 6"],
    ["61 * * * *", "minute field: 61 is out of range 0-59"],
    ["* 24 * * *", "hour field: 24 is out of range 0-23"],
    ["* * 0 * *", "day-of-month field: 0 is out of range 1-31"],
    ["* * * 13 *", "month field: 13 is out of range 1-12"],
    ["* * * * 8", "day-of-week field: 8 is out of range 0-7"],
    ["*/0 * * * *", "minute field: step '0' must be a positive number"],
    ["5-1 * * * *", "minute field: range 5-1 runs backwards"],
    ["* * * FOO *", "month field: 'FOO' is not a number or name"],
    ["1,,2 * * * *", "minute field: empty list item"],
    ["@sometimes", "unknown macro"],
  ])("'%s' is refused: %s", (expr, message) => {
    expect(() => parseCron(expr)).toThrow(message);
  });
});
