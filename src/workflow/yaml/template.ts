/**
 * `${{ path }}` templates in YAML workflow values, GitHub-Actions style: `input.x`,
 * `steps.NAME.output.field`, `workflow.id`. A value that is exactly one template keeps the
 * referenced value's type (an object stays an object); inside text, objects become JSON.
 * Pure functions of the recorded data, so they are deterministic on replay.
 */
const WHOLE = /^\s*\$\{\{\s*([A-Za-z0-9_.\-\[\]]+)\s*\}\}\s*$/;
const PART = /\$\{\{\s*([A-Za-z0-9_.\-\[\]]+)\s*\}\}/g;

export function lookup(scope: Record<string, unknown>, path: string): unknown {
  let cur: any = scope;
  for (const part of path.replace(/\[(\d+)\]/g, ".$1").split(".")) {
    if (cur === null || cur === undefined) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function render(value: unknown, scope: Record<string, unknown>): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(scope, whole[1]!) ?? null;
    if (!value.includes("${{")) return value;
    return value.replace(PART, (_, path: string) => {
      const v = lookup(scope, path);
      if (v === undefined || v === null) return "";
      return typeof v === "object" ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => render(v, scope));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, scope)]));
  return value;
}
