/**
 * `${NAME}` and `${NAME:-default}` in YAML string values. Resolution order: process env, then the
 * settings store, then the default. `$${` escapes a literal `${`.
 */
/** A lookup answers a value, or a value marked secret (settings made with --secret), or nothing. */
export type LookupResult = string | { value: string; secret: boolean } | undefined;
export type Lookup = (name: string) => LookupResult;

const PATTERN = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_.]*)(?::-([^}]*))?\}/g;

export interface Unresolved {
  name: string;
}

export function interpolate(text: string, lookups: Lookup[], missing: Unresolved[], usedSecret?: { value: boolean }): string {
  return text.replace(PATTERN, (whole, escaped, name: string, def: string | undefined) => {
    if (escaped) return whole.slice(1);
    for (const lookup of lookups) {
      const v = lookup(name);
      if (v === undefined) continue;
      if (typeof v === "string") return v;
      if (v.secret && usedSecret) usedSecret.value = true;
      return v.value;
    }
    if (def !== undefined) return def;
    missing.push({ name });
    return "";
  });
}

/** Walk a parsed YAML value, interpolating every string; returns a new value. */
export function interpolateDeep(
  value: unknown,
  lookups: Lookup[],
  onMissing: (path: (string | number)[], name: string) => void,
  path: (string | number)[] = [],
  onSecret: (path: (string | number)[]) => void = () => {},
): unknown {
  if (typeof value === "string") {
    if (!value.includes("${")) return value;
    const missing: Unresolved[] = [];
    const usedSecret = { value: false };
    const out = interpolate(value, lookups, missing, usedSecret);
    for (const m of missing) onMissing(path, m.name);
    if (usedSecret.value) onSecret(path);
    // a value that was exactly one reference keeps YAML's scalar typing ("8080" → 8080 via rules)
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateDeep(v, lookups, onMissing, [...path, i], onSecret));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateDeep(v, lookups, onMissing, [...path, k], onSecret);
    return out;
  }
  return value;
}
