/** Flags and helpers the settings commands share. */
import type { App } from "../../core/app.ts";
import { SettingsError } from "../errors.ts";
import { checkKey, MAX_VALUE_BYTES, profileName } from "../names.ts";
import type { Change, HookResult } from "../types.ts";

export const envArg = {
  env: { type: "string", description: "Settings profile (default: SECURELY_ENV, else the base profile)", valueHint: "NAME" },
} as const;

export const revealArg = {
  reveal: { type: "boolean", description: "Show secrets' plaintext instead of ********" },
} as const;

/** PREFIX selects a subtree (mail → mail.*) or a glob; settings:list and settings:tree share it. */
export const prefixArg = {
  prefix: { type: "positional", description: "Key prefix (mail selects mail.*) or glob", required: false },
} as const;

export const MASK = "********";

export function profileOf(app: App, flag: string | undefined): string {
  return profileName(flag, app.env);
}

/** All of stdin, minus one trailing newline (what `echo` and heredocs add). */
export async function readStdin(): Promise<string> {
  const text = await Bun.stdin.text();
  return text.replace(/\r?\n$/, "");
}

export function checkValue(key: string, value: string): void {
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_VALUE_BYTES) throw SettingsError.tooLarge(key, bytes, MAX_VALUE_BYTES);
}

/** Positionals of settings:set: KEY=VALUE, or one bare KEY whose value is read from stdin. */
export async function parseAssignments(items: string[]): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  let fromStdin: string | undefined;
  for (const item of items) {
    const eq = item.indexOf("=");
    const key = checkKey(eq < 0 ? item : item.slice(0, eq));
    if (eq >= 0) out.push([key, item.slice(eq + 1)]);
    else if (fromStdin !== undefined) throw new SettingsError(`only one KEY can read its value from stdin (${fromStdin} and ${key} both lack =VALUE)`, "SETTINGS_USAGE", undefined, 2);
    else {
      fromStdin = key;
      out.push([key, await readStdin()]);
    }
  }
  for (const [k, v] of out) checkValue(k, v);
  return out;
}

/** Print a plaintext value for scripts: exactly the value and a newline, or {key, value} with --json. */
export function printValue(app: App, data: Record<string, unknown> & { value: string }): void {
  if (app.json) app.print(data);
  else process.stdout.write(data.value + "\n");
}

/** The summary a write command prints: which keys changed, and how the hooks went. */
export function printWriteResult(app: App, verb: string, changes: Change[], unchanged: string[], hooks: HookResult[]): void {
  app.print({ changed: changes.map((c) => ({ key: c.key, env: c.env, secret: c.secret })), unchanged, hooks }, () => {
    const lines = changes.map((c) => `${verb} ${c.key}${c.secret ? " (secret)" : ""}${c.env ? ` [env ${c.env}]` : ""}`);
    if (unchanged.length) lines.push(`unchanged: ${unchanged.join(", ")}`);
    for (const h of hooks) lines.push(`hook #${h.hook} ${h.what}: ${h.ok ? "ok" : `FAILED (${h.error})`}`);
    return lines.join("\n") || "nothing to do";
  });
}
