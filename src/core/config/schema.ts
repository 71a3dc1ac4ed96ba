/**
 * A tiny schema language for config sections. Each namespace's config.ts describes its section
 * with val/obj/map/list; the loader validates, applies defaults, coerces env strings, and reports
 * every problem at once with its key path. Docs (docs/config.md) are the `doc` strings.
 */
import { parseRules, validateValue, type ParsedRule } from "../validation/rules.ts";

interface Base {
  doc?: string;
  /** Masked by config:show. */
  secret?: boolean;
}
export interface ValueSchema extends Base {
  kind: "value";
  rules: ParsedRule[];
  ruleText: string;
  default?: unknown;
}
export interface ObjectSchema extends Base {
  kind: "object";
  fields: Record<string, Schema>;
  /** Keep keys that are not declared (Pingora keeps unknown top-level keys for extensions). */
  open?: boolean;
  /** Cross-field checks after fields are valid; return [relativePath, message] pairs. */
  check?: (value: Record<string, any>) => Array<[string, string]>;
  /** A bare scalar written where the object is expected is expanded by this (e.g. "host:port" → {addr}). */
  shorthand?: (value: unknown) => unknown;
}
export interface MapSchema extends Base {
  kind: "map";
  of: Schema;
  /** Validates the map keys themselves. */
  keyRules?: string;
}
export interface ListSchema extends Base {
  kind: "list";
  of: Schema;
  default?: unknown[];
}
export type Schema = ValueSchema | ObjectSchema | MapSchema | ListSchema;

export function val(rules: string, def?: unknown, doc?: string, opts: { secret?: boolean } = {}): ValueSchema {
  return { kind: "value", rules: parseRules(rules), ruleText: rules, default: def, doc, secret: opts.secret };
}
export function obj(fields: Record<string, Schema>, opts: Omit<ObjectSchema, "kind" | "fields"> = {}): ObjectSchema {
  return { kind: "object", fields, ...opts };
}
export function map(of: Schema, opts: Omit<MapSchema, "kind" | "of"> = {}): MapSchema {
  return { kind: "map", of, ...opts };
}
export function list(of: Schema, def: unknown[] | undefined = [], doc?: string): ListSchema {
  return { kind: "list", of, default: def, doc };
}

export interface SchemaIssue {
  path: (string | number)[];
  message: string;
}

export function formatPath(path: (string | number)[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "a list";
  if (v && typeof v === "object") return "a mapping";
  return String(v);
}

/** Validate `value` against `schema`; returns the value with defaults applied and types coerced. */
export function applySchema(schema: Schema, value: unknown, path: (string | number)[], issues: SchemaIssue[]): unknown {
  switch (schema.kind) {
    case "value": {
      const v = value === undefined ? schema.default : value;
      const res = validateValue(v, schema.rules);
      if (!res.ok) {
        issues.push({ path, message: res.missing ? "is required" : `expected ${res.expected}, got ${show(v)}` });
        return v;
      }
      return res.value;
    }
    case "object": {
      if (value !== undefined && value !== null && typeof value !== "object" && schema.shorthand) value = schema.shorthand(value);
      if (value === undefined || value === null) value = {};
      if (typeof value !== "object" || Array.isArray(value)) {
        issues.push({ path, message: `expected a mapping, got ${show(value)}` });
        return value;
      }
      const input = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(schema.fields)) {
        const r = applySchema(s, input[k], [...path, k], issues);
        if (r !== undefined) out[k] = r;
      }
      for (const k of Object.keys(input)) {
        if (k in schema.fields) continue;
        if (schema.open) out[k] = input[k];
        else {
          const near = closest(k, Object.keys(schema.fields));
          issues.push({ path: [...path, k], message: `unknown key${near ? ` — did you mean '${near}'?` : ""}` });
        }
      }
      if (schema.check && !issues.some((i) => startsWith(i.path, path))) {
        for (const [rel, msg] of schema.check(out)) issues.push({ path: rel ? [...path, ...rel.split(".")] : path, message: msg });
      }
      return out;
    }
    case "map": {
      if (value === undefined || value === null) return {};
      if (typeof value !== "object" || Array.isArray(value)) {
        issues.push({ path, message: `expected a mapping, got ${show(value)}` });
        return value;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (schema.keyRules) {
          const res = validateValue(k, schema.keyRules);
          if (!res.ok) issues.push({ path: [...path, k], message: `invalid name: expected ${res.expected}` });
        }
        out[k] = applySchema(schema.of, v, [...path, k], issues);
      }
      return out;
    }
    case "list": {
      if (value === undefined || value === null) return schema.default ? [...schema.default] : [];
      if (!Array.isArray(value)) {
        issues.push({ path, message: `expected a list, got ${show(value)}` });
        return value;
      }
      return value.map((v, i) => applySchema(schema.of, v, [...path, i], issues));
    }
  }
}

function startsWith(a: (string | number)[], prefix: (string | number)[]): boolean {
  return prefix.every((p, i) => a[i] === p) && a.length > prefix.length;
}

/** Levenshtein-nearest candidate within distance 3, for "did you mean". */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
