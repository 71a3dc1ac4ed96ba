import { describe, expect, test } from "bun:test";
import { helperExpression } from "../../src/schedule/frequencies.ts";

/** Expected expressions are what Laravel's ManagesFrequencies builds for the same call. */
const cases: [Record<string, unknown>, string, string][] = [
  [{ every_second: true }, "every_second", "* * * * * *"],
  [{ every_five_seconds: true }, "every_five_seconds", "*/5 * * * * *"],
  [{ every_minute: true }, "every_minute", "* * * * *"],
  [{ every_five_minutes: true }, "every_five_minutes", "*/5 * * * *"],
  [{ every_thirty_minutes: true }, "every_thirty_minutes", "0,30 * * * *"],
  [{ hourly: true }, "hourly", "0 * * * *"],
  [{ hourly_at: 17 }, "hourly_at", "17 * * * *"],
  [{ hourly_at: [15, 45] }, "hourly_at", "15,45 * * * *"],
  [{ every_odd_hour: true }, "every_odd_hour", "0 1-23/2 * * *"],
  [{ every_two_hours: 30 }, "every_two_hours", "30 */2 * * *"],
  [{ every_six_hours: true }, "every_six_hours", "0 */6 * * *"],
  [{ daily: true }, "daily", "0 0 * * *"],
  [{ daily_at: "02:00" }, "daily_at", "0 2 * * *"],
  [{ daily_at: "13:45" }, "daily_at", "45 13 * * *"],
  [{ twice_daily: true }, "twice_daily", "0 1,13 * * *"],
  [{ twice_daily: [3, 15] }, "twice_daily", "0 3,15 * * *"],
  [{ twice_daily_at: [1, 13, 15] }, "twice_daily_at", "15 1,13 * * *"],
  [{ weekly: true }, "weekly", "0 0 * * 0"],
  [{ weekly_on: [1, "8:00"] }, "weekly_on", "0 8 * * 1"],
  [{ weekly_on: "friday" }, "weekly_on", "0 0 * * 5"],
  [{ monthly: true }, "monthly", "0 0 1 * *"],
  [{ monthly_on: [4, "15:00"] }, "monthly_on", "0 15 4 * *"],
  [{ twice_monthly: [1, 16, "13:00"] }, "twice_monthly", "0 13 1,16 * *"],
  [{ last_day_of_month: "15:00" }, "last_day_of_month", "0 15 L * *"],
  [{ quarterly: true }, "quarterly", "0 0 1 1-12/3 *"],
  [{ quarterly_on: [4, "14:00"] }, "quarterly_on", "0 14 4 1-12/3 *"],
  [{ yearly: true }, "yearly", "0 0 1 1 *"],
  [{ yearly_on: [6, 1, "17:00"] }, "yearly_on", "0 17 1 6 *"],
  [{ hourly: true, weekdays: true }, "hourly", "0 * * * 1-5"],
  [{ daily: true, weekends: true }, "daily", "0 0 * * 6,0"],
  [{ weekly: true, mondays: true, at: "8:30" }, "weekly", "30 8 * * 1"],
  [{ every_fifteen_minutes: true, days: ["mon", 3, "friday"] }, "every_fifteen_minutes", "*/15 * * * 1,3,5"],
];

describe("frequency helpers", () => {
  test.each(cases)("%j is %s → %s", (entry, frequency, expected) => {
    expect(helperExpression(entry, frequency)).toBe(expected);
  });

  test.each([
    [{ daily_at: "25:00" }, "daily_at", "daily_at", 'expected a time "HH:MM", got "25:00"'],
    [{ hourly_at: 60 }, "hourly_at", "hourly_at", "expected a minute (0-59), got 60"],
    [{ weekly_on: ["someday"] }, "weekly_on", "weekly_on", "expected a weekday"],
    [{ daily: true, at: "noon" }, "daily", "at", 'expected a time "HH:MM", got "noon"'],
  ])("%j fails on %s", (entry, frequency, key, message) => {
    try {
      helperExpression(entry as Record<string, unknown>, frequency);
      throw new Error("no error");
    } catch (err: any) {
      expect(err.key).toBe(key);
      expect(err.message).toContain(message);
    }
  });
});
