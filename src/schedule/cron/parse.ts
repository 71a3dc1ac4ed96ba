/**
 * Cron expressions: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds
 * first; `*`, `?`, lists, ranges, steps (`*\/5`, `10-40/10`, `7/15`), month and weekday names,
 * `L` (last day of month), `5L` (last Friday), `1#2` (second Monday), and the macros @yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly. Weekday 7 is Sunday, as in Vixie cron.
 */
import { ScheduleError } from "../errors.ts";

export interface CronExpression {
  source: string;
  hasSeconds: boolean;
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** `L` in day-of-month. */
  lastDayOfMonth: boolean;
  /** `5L`: last given weekday of the month. */
  lastWeekdays: Set<number>;
  /** `1#2`: [weekday, nth]. */
  nthWeekdays: [number, number][];
  /** Day-of-month / day-of-week written as `*` or `?` (Vixie: when both are restricted, either may match). */
  domAny: boolean;
  dowAny: boolean;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: string[];
  namesFrom?: number;
}

const FIELDS: Record<string, FieldSpec> = {
  second: { label: "second", min: 0, max: 59 },
  minute: { label: "minute", min: 0, max: 59 },
  hour: { label: "hour", min: 0, max: 23 },
  dom: { label: "day-of-month", min: 1, max: 31 },
  month: { label: "month", min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  dow: { label: "day-of-week", min: 0, max: 7, names: DAYS, namesFrom: 0 },
};

export function parseCron(expression: string): CronExpression {
  const source = expression.trim();
  const text = MACROS[source.toLowerCase()] ?? source;
  if (text.startsWith("@")) throw ScheduleError.badCron(source, `unknown macro; use one of ${Object.keys(MACROS).join(", ")}`);
  const parts = text.split(/\s+/).filter(Boolean);
  if (parts.length !== 5 && parts.length !== 6) throw ScheduleError.badCron(source, `has ${parts.length} fields, expected 5 or 6`);
  const hasSeconds = parts.length === 6;
  const [sec, min, hour, dom, month, dow] = hasSeconds ? parts : ["0", ...parts];
  const expr: CronExpression = {
    source,
    hasSeconds,
    seconds: field(source, sec!, FIELDS.second!),
    minutes: field(source, min!, FIELDS.minute!),
    hours: field(source, hour!, FIELDS.hour!),
    daysOfMonth: new Set(),
    months: field(source, month!, FIELDS.month!),
    daysOfWeek: new Set(),
    lastDayOfMonth: false,
    lastWeekdays: new Set(),
    nthWeekdays: [],
    domAny: dom === "*" || dom === "?",
    dowAny: dow === "*" || dow === "?",
  };
  // day-of-month: plain items plus `L`
  const domItems = dom!.split(",").filter((i) => {
    if (i.toUpperCase() !== "L") return true;
    expr.lastDayOfMonth = true;
    return false;
  });
  if (domItems.length) expr.daysOfMonth = field(source, domItems.join(","), FIELDS.dom!);
  // day-of-week: plain items plus `5L` and `1#2`
  const dowItems: string[] = [];
  for (const item of dow!.split(",")) {
    const last = /^(\w+)L$/i.exec(item);
    const nth = /^(\w+)#([1-5])$/.exec(item);
    if (last && item.toUpperCase() !== "L") expr.lastWeekdays.add(single(source, last[1]!, FIELDS.dow!) % 7);
    else if (nth) expr.nthWeekdays.push([single(source, nth[1]!, FIELDS.dow!) % 7, Number(nth[2])]);
    else dowItems.push(item);
  }
  if (dowItems.length) expr.daysOfWeek = new Set([...field(source, dowItems.join(","), FIELDS.dow!)].map((d) => d % 7));
  return expr;
}

function single(source: string, text: string, spec: FieldSpec): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  const n = named >= 0 ? named + spec.namesFrom! : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(n)) throw ScheduleError.badCron(source, `${spec.label} field: '${text}' is not a number${spec.names ? " or name" : ""}`);
  if (n < spec.min || n > spec.max) throw ScheduleError.badCron(source, `${spec.label} field: ${n} is out of range ${spec.min}-${spec.max}`);
  return n;
}

function field(source: string, text: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") throw ScheduleError.badCron(source, `${spec.label} field: empty list item`);
    const [range, stepText, extra] = item.split("/");
    if (extra !== undefined) throw ScheduleError.badCron(source, `${spec.label} field: '${item}' has two steps`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw ScheduleError.badCron(source, `${spec.label} field: step '${stepText}' must be a positive number`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === "*" || range === "?") [from, to] = [spec.min, spec.max === 7 ? 6 : spec.max];
    else if (range!.includes("-")) {
      const [a, b] = range!.split("-");
      [from, to] = [single(source, a!, spec), single(source, b!, spec)];
      if (from > to) throw ScheduleError.badCron(source, `${spec.label} field: range ${range} runs backwards`);
    } else {
      from = single(source, range!, spec);
      // "7/15" means from 7 to the end in steps of 15, as cron does
      to = stepText !== undefined ? spec.max : from;
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}
