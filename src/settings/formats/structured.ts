/**
 * JSON and YAML settings files: a mapping whose nested mappings flatten to dotted keys
 * (`{mail: {smtp: {host: x}}}` → `mail.smtp.host=x`). Scalars become strings; lists are kept as
 * their JSON text, since a setting is one string.
 */
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { SettingsError } from "../errors.ts";

export function parseStructured(text: string, format: "json" | "yaml", file: string): Array<[string, string]> {
  let data: unknown;
  try {
    data = format === "json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // YAML/JSON parser messages quote the line; keep only the position
    const where = /line (\d+)/i.exec((err as Error).message)?.[1] ?? /position (\d+)/.exec((err as Error).message)?.[1];
    throw new SettingsError(`${file}: invalid ${format.toUpperCase()}${where ? ` near ${format === "json" ? "position" : "line"} ${where}` : ""}`, "SETTINGS_IMPORT_SYNTAX");
  }
  if (data === null || data === undefined) return [];
  if (typeof data !== "object" || Array.isArray(data)) throw new SettingsError(`${file}: expected a mapping of keys at the top level`, "SETTINGS_IMPORT_SYNTAX");
  const out: Array<[string, string]> = [];
  flatten(data as Record<string, unknown>, "", out);
  return out;
}

function flatten(obj: Record<string, unknown>, prefix: string, out: Array<[string, string]>): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out.push([key, v === null || v === undefined ? "" : Array.isArray(v) ? JSON.stringify(v) : String(v)]);
  }
}

/** A flat `{key: value}` document: it imports back to the same keys, and keys never clash. */
export function formatStructured(entries: Array<[string, string]>, format: "json" | "yaml"): string {
  const obj = Object.fromEntries(entries);
  return format === "json" ? JSON.stringify(obj, null, 2) + "\n" : entries.length === 0 ? "{}\n" : toYaml(obj);
}
