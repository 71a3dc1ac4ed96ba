/**
 * Laravel-style validation rules ("required|integer|min:1"), used by config and by commands.
 * A rule returns undefined when the value passes, or what was expected ("an integer ≥ 1").
 * Type rules also coerce strings (env overrides and ${NAME} arrive as strings).
 */
import { isIP } from "node:net";

export type RuleFn = (value: unknown, param: string[], ctx: RuleContext) => RuleResult;
export type RuleResult = { ok: true; value: unknown } | { ok: false; expected: string };
export interface RuleContext {
  /** The value's type as decided by earlier rules, so min/max know what they measure. */
  type: "string" | "number" | "boolean" | "array" | "object" | "unknown";
}

const pass = (value: unknown): RuleResult => ({ ok: true, value });
const fail = (expected: string): RuleResult => ({ ok: false, expected });

const rules = new Map<string, RuleFn>();

export function defineRule(name: string, fn: RuleFn): void {
  rules.set(name, fn);
}

function size(value: unknown, ctx: RuleContext): number {
  if (ctx.type === "number" && typeof value === "number") return value;
  if (typeof value === "string" || Array.isArray(value)) return value.length;
  if (typeof value === "number") return value;
  if (value && typeof value === "object") return Object.keys(value).length;
  return 0;
}

const unit = (ctx: RuleContext) => (ctx.type === "string" ? " characters" : ctx.type === "array" ? " items" : "");

defineRule("string", (v, _p, ctx) => {
  if (typeof v === "number" || typeof v === "boolean") v = String(v);
  if (typeof v !== "string") return fail("a string");
  ctx.type = "string";
  return pass(v);
});
defineRule("integer", (v, _p, ctx) => {
  const n = typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) return fail("an integer");
  ctx.type = "number";
  return pass(n);
});
defineRule("numeric", (v, _p, ctx) => {
  const n = typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isFinite(n)) return fail("a number");
  ctx.type = "number";
  return pass(n);
});
defineRule("boolean", (v, _p, ctx) => {
  const map: Record<string, boolean> = { true: true, false: false, "1": true, "0": false, yes: true, no: false, on: true, off: false };
  const b = typeof v === "string" ? map[v.toLowerCase()] : typeof v === "number" ? map[String(v)] : v;
  if (typeof b !== "boolean") return fail("a boolean (true/false)");
  ctx.type = "boolean";
  return pass(b);
});
defineRule("array", (v, _p, ctx) => {
  if (!Array.isArray(v)) return fail("a list");
  ctx.type = "array";
  return pass(v);
});
defineRule("min", (v, [p], ctx) => (size(v, ctx) >= Number(p) ? pass(v) : fail(`at least ${p}${unit(ctx)}`)));
defineRule("max", (v, [p], ctx) => (size(v, ctx) <= Number(p) ? pass(v) : fail(`at most ${p}${unit(ctx)}`)));
defineRule("between", (v, [a, b], ctx) => {
  const s = size(v, ctx);
  return s >= Number(a) && s <= Number(b) ? pass(v) : fail(`between ${a} and ${b}${unit(ctx)}`);
});
defineRule("in", (v, params) => (params.includes(String(v)) ? pass(v) : fail(`one of ${params.join(", ")}`)));
defineRule("regex", (v, params) => {
  const src = params.join(",");
  const m = /^\/(.*)\/([a-z]*)$/.exec(src);
  const re = m ? new RegExp(m[1]!, m[2]) : new RegExp(src);
  return typeof v === "string" && re.test(v) ? pass(v) : fail(`text matching ${src}`);
});
defineRule("ip", (v) => (typeof v === "string" && isIP(v) ? pass(v) : fail("an IP address")));
defineRule("url", (v) => {
  try {
    new URL(String(v));
    return pass(v);
  } catch {
    return fail("a URL");
  }
});
/** host:port, [v6]:port or :port — what every listener and upstream address takes. */
defineRule("host_port", (v) => {
  const s = String(v);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s\[\]]*)):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) > 65535) return fail("host:port");
  return pass(s);
});
/** A listen address: host:port, or a unix socket path (unix:/path or /path). */
defineRule("listen", (v) => {
  const s = String(v);
  if (s.startsWith("/") || s.startsWith("unix:")) return pass(s);
  return rules.get("host_port")!(s, [], { type: "string" });
});
/** Durations: 30, "30s", "500ms", "5m", "1h", "1d" → seconds (number). */
defineRule("duration", (v, _p, ctx) => {
  const n = parseDuration(v);
  if (n === undefined) return fail('a duration such as 30, "500ms", "30s", "5m", "1h"');
  ctx.type = "number";
  return pass(n);
});

export function parseDuration(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  if (typeof v !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) return undefined;
  const mult = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? "s"]!;
  return Number(m[1]) * mult;
}

export interface ParsedRule {
  name: string;
  params: string[];
}

export function parseRules(spec: string): ParsedRule[] {
  if (!spec) return [];
  return spec.split("|").map((part) => {
    const i = part.indexOf(":");
    const name = i < 0 ? part : part.slice(0, i);
    const params = i < 0 ? [] : name === "regex" ? [part.slice(i + 1)] : part.slice(i + 1).split(",");
    if (!["required", "nullable", "sometimes"].includes(name) && !rules.has(name)) {
      throw new Error(`unknown validation rule '${name}' in '${spec}'`);
    }
    return { name, params };
  });
}

export type ValidationOutcome = { ok: true; value: unknown } | { ok: false; expected: string; missing?: boolean };

/** Apply a rule string to one value. Missing values pass unless `required`. */
export function validateValue(value: unknown, spec: string | ParsedRule[]): ValidationOutcome {
  const parsed = typeof spec === "string" ? parseRules(spec) : spec;
  const names = new Set(parsed.map((r) => r.name));
  if (value === undefined || value === null || value === "") {
    if (names.has("required")) return { ok: false, expected: "a value", missing: true };
    return { ok: true, value: value === "" && !names.has("nullable") ? value : value ?? undefined };
  }
  const ctx: RuleContext = { type: "unknown" };
  let current: unknown = value;
  for (const r of parsed) {
    const fn = rules.get(r.name);
    if (!fn) continue;
    const res = fn(current, r.params, ctx);
    if (!res.ok) return { ok: false, expected: res.expected };
    current = res.value;
  }
  return { ok: true, value: current };
}
