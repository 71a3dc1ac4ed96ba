/**
 * Laravel's frequency helpers (Console/Scheduling/ManagesFrequencies) as config keys, each turned
 * into a cron expression the way Laravel does it: start from `* * * * *` and splice positions.
 * Frequencies pick the base; modifiers (days, weekdays, mondays…, at) then adjust it, so
 * `weekly: true` + `at: "08:30"` + `mondays: true` is `30 8 * * 1`.
 */

/** Cron state being built: a seconds field plus Laravel's five positions (1 = minute … 5 = weekday). */
interface Build {
  seconds: string;
  pos: [string, string, string, string, string];
}

type Helper = (b: Build, value: unknown) => void;

const DAY_NAMES = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** A thrown string is the message for the helper's key path. */
function fail(message: string): never {
  throw new HelperProblem(message);
}
export class HelperProblem extends Error {
  /** The config key whose value was wrong. */
  key?: string;
}

const splice = (b: Build, position: 1 | 2 | 3 | 4 | 5, value: string | number) => {
  b.pos[position - 1] = String(value);
};

export function parseTime(v: unknown): [number, number] {
  const m = typeof v === "string" ? /^(\d{1,2}):(\d{2})$/.exec(v.trim()) : null;
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) fail(`expected a time "HH:MM", got ${JSON.stringify(v)}`);
  return [Number(m[1]), Number(m[2])];
}

function int(v: unknown, min: number, max: number, what: string): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) fail(`expected ${what} (${min}-${max}), got ${JSON.stringify(v)}`);
  return n;
}

function day(v: unknown): number {
  if (typeof v === "string" && DAY_NAMES.includes(v.toLowerCase())) return DAY_NAMES.indexOf(v.toLowerCase());
  if (typeof v === "string" && DAY_NAMES.some((d) => d.slice(0, 3) === v.toLowerCase())) return DAY_NAMES.findIndex((d) => d.slice(0, 3) === v.toLowerCase());
  return int(v, 0, 6, "a weekday: 0-6 (0 = sunday) or a name") ;
}

const args = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === true ? [] : [v]);

const at = (b: Build, time: unknown) => {
  const [h, m] = parseTime(time);
  splice(b, 2, h);
  splice(b, 1, m);
};

const seconds = (field: string): Helper => (b) => {
  b.seconds = field;
  splice(b, 1, "*");
};
const minutes = (field: string): Helper => (b) => splice(b, 1, field);
const hours = (field: string): Helper => (b, v) => {
  const [offset = 0] = args(v);
  splice(b, 1, int(offset, 0, 59, "a minute offset"));
  splice(b, 2, field);
};
const fixed = (m: string, h: string, dom = "*", mon = "*", dow = "*"): Helper => (b) => {
  b.pos = [m, h, dom, mon, dow];
};

/** Frequencies: exactly one per entry (or `cron`). Value `true`, or the arguments Laravel's method takes. */
export const FREQUENCIES: Record<string, { doc: string; apply: Helper }> = {
  every_second: { doc: "every second", apply: seconds("*") },
  every_two_seconds: { doc: "every 2 seconds", apply: seconds("*/2") },
  every_five_seconds: { doc: "every 5 seconds", apply: seconds("*/5") },
  every_ten_seconds: { doc: "every 10 seconds", apply: seconds("*/10") },
  every_fifteen_seconds: { doc: "every 15 seconds", apply: seconds("*/15") },
  every_twenty_seconds: { doc: "every 20 seconds", apply: seconds("*/20") },
  every_thirty_seconds: { doc: "every 30 seconds", apply: seconds("*/30") },
  every_minute: { doc: "every minute", apply: minutes("*") },
  every_two_minutes: { doc: "every 2 minutes", apply: minutes("*/2") },
  every_three_minutes: { doc: "every 3 minutes", apply: minutes("*/3") },
  every_four_minutes: { doc: "every 4 minutes", apply: minutes("*/4") },
  every_five_minutes: { doc: "every 5 minutes", apply: minutes("*/5") },
  every_ten_minutes: { doc: "every 10 minutes", apply: minutes("*/10") },
  every_fifteen_minutes: { doc: "every 15 minutes", apply: minutes("*/15") },
  every_thirty_minutes: { doc: "at minutes 0 and 30", apply: minutes("0,30") },
  hourly: { doc: "at minute 0 of every hour", apply: minutes("0") },
  hourly_at: {
    doc: "every hour at the given minute(s): 17 or [15, 45]",
    apply: (b, v) => splice(b, 1, args(v).map((m) => int(m, 0, 59, "a minute")).join(",")),
  },
  every_odd_hour: { doc: "every odd hour; value true or a minute offset", apply: hours("1-23/2") },
  every_two_hours: { doc: "every 2 hours; value true or a minute offset", apply: hours("*/2") },
  every_three_hours: { doc: "every 3 hours; value true or a minute offset", apply: hours("*/3") },
  every_four_hours: { doc: "every 4 hours; value true or a minute offset", apply: hours("*/4") },
  every_six_hours: { doc: "every 6 hours; value true or a minute offset", apply: hours("*/6") },
  daily: { doc: "at 00:00", apply: fixed("0", "0") },
  daily_at: { doc: 'every day at "HH:MM"', apply: at },
  twice_daily: {
    doc: "at two hours, minute 0: true (1 and 13) or [first, second]",
    apply: (b, v) => {
      const [first = 1, second = 13] = args(v);
      splice(b, 1, 0);
      splice(b, 2, `${int(first, 0, 23, "an hour")},${int(second, 0, 23, "an hour")}`);
    },
  },
  twice_daily_at: {
    doc: "at two hours and a minute: [first, second, minute]",
    apply: (b, v) => {
      const [first = 1, second = 13, offset = 0] = args(v);
      splice(b, 1, int(offset, 0, 59, "a minute"));
      splice(b, 2, `${int(first, 0, 23, "an hour")},${int(second, 0, 23, "an hour")}`);
    },
  },
  weekly: { doc: "sundays at 00:00", apply: fixed("0", "0", "*", "*", "0") },
  weekly_on: {
    doc: 'one weekday at a time: [day, "HH:MM"] or day (0-6 or a name)',
    apply: (b, v) => {
      const [d, time = "0:00"] = args(v);
      at(b, time);
      splice(b, 5, day(d));
    },
  },
  monthly: { doc: "the 1st at 00:00", apply: fixed("0", "0", "1") },
  monthly_on: {
    doc: 'one day of the month at a time: [day, "HH:MM"] or day',
    apply: (b, v) => {
      const [d = 1, time = "0:00"] = args(v);
      at(b, time);
      splice(b, 3, int(d, 1, 31, "a day of the month"));
    },
  },
  twice_monthly: {
    doc: 'two days of the month: true (1 and 16) or [first, second, "HH:MM"]',
    apply: (b, v) => {
      const [first = 1, second = 16, time = "0:00"] = args(v);
      at(b, time);
      splice(b, 3, `${int(first, 1, 31, "a day of the month")},${int(second, 1, 31, "a day of the month")}`);
    },
  },
  last_day_of_month: {
    doc: 'the last day of each month: true (00:00) or "HH:MM"',
    apply: (b, v) => {
      at(b, v === true ? "0:00" : v);
      splice(b, 3, "L");
    },
  },
  quarterly: { doc: "Jan/Apr/Jul/Oct 1st at 00:00", apply: fixed("0", "0", "1", "1-12/3") },
  quarterly_on: {
    doc: 'a day of each quarter\'s first month: [day, "HH:MM"] or day',
    apply: (b, v) => {
      const [d = 1, time = "0:00"] = args(v);
      at(b, time);
      splice(b, 3, int(d, 1, 31, "a day of the month"));
      splice(b, 4, "1-12/3");
    },
  },
  yearly: { doc: "January 1st at 00:00", apply: fixed("0", "0", "1", "1") },
  yearly_on: {
    doc: 'a date each year: [month, day, "HH:MM"]',
    apply: (b, v) => {
      const [month = 1, d = 1, time = "0:00"] = args(v);
      at(b, time);
      splice(b, 3, int(d, 1, 31, "a day of the month"));
      splice(b, 4, int(month, 1, 12, "a month"));
    },
  },
};

/** Modifiers: applied after the frequency, in this order. */
export const MODIFIERS: Record<string, { doc: string; apply: Helper }> = {
  weekdays: { doc: "only Monday to Friday", apply: (b) => splice(b, 5, "1-5") },
  weekends: { doc: "only Saturday and Sunday", apply: (b) => splice(b, 5, "6,0") },
  ...Object.fromEntries(DAY_NAMES.map((d, i) => [`${d}s`, { doc: `only on ${d}s`, apply: (b: Build) => splice(b, 5, i) }])),
  days: { doc: "only these weekdays: [1, 3, 5] or names", apply: (b, v) => splice(b, 5, args(v).map(day).join(",")) },
  at: { doc: 'at this time of day, "HH:MM" (with daily, weekly, monthly…)', apply: at },
};

/** The cron expression for an entry's helpers; throws HelperProblem naming the bad value. */
export function helperExpression(entry: Record<string, unknown>, frequency: string): string {
  const b: Build = { seconds: "0", pos: ["*", "*", "*", "*", "*"] };
  const apply = (key: string, h: Helper) => {
    try {
      h(b, entry[key]);
    } catch (err) {
      if (err instanceof HelperProblem) err.key ??= key;
      throw err;
    }
  };
  apply(frequency, FREQUENCIES[frequency]!.apply);
  for (const [key, m] of Object.entries(MODIFIERS)) {
    const v = entry[key];
    if (v === undefined || v === false || v === null) continue;
    apply(key, m.apply);
  }
  const five = b.pos.join(" ");
  return b.seconds === "0" ? five : `${b.seconds} ${five}`;
}
