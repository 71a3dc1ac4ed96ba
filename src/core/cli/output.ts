/** Data a command prints for people or scripts: `--json` gives JSON, otherwise a readable form. */
import { stringify } from "yaml";

export function printData(data: unknown, json: boolean, human?: (data: any) => string | void): void {
  if (json) {
    process.stdout.write(JSON.stringify(data, null, 2) + "\n");
    return;
  }
  if (human) {
    const s = human(data);
    if (typeof s === "string") process.stdout.write(s.endsWith("\n") || s === "" ? s : s + "\n");
    return;
  }
  if (typeof data === "string") process.stdout.write(data + "\n");
  else process.stdout.write(stringify(data));
}

/** A plain aligned table for list commands. */
export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return "(none)";
  const cols = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => fmt(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n");
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
