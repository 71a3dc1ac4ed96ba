/**
 * Setting names, profile names and globs. Names are what `${NAME}` in the config can reference,
 * so they use the same alphabet: dot-separated parts of letters, digits and _.
 */
import { SettingsError } from "./errors.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const ENV = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const MAX_KEY_LENGTH = 255;
/** Largest value accepted, in bytes (a setting is not a file store). */
export const MAX_VALUE_BYTES = 1024 * 1024;

export function isValidKey(name: string): boolean {
  return name.length <= MAX_KEY_LENGTH && KEY.test(name);
}

export function checkKey(name: string): string {
  if (!isValidKey(name)) throw SettingsError.invalidName(name);
  return name;
}

/** The profile for --env NAME, else SECURELY_ENV, else the base profile (""). */
export function profileName(flag: string | undefined, env: Record<string, string | undefined>): string {
  const name = flag ?? env.SECURELY_ENV ?? "";
  if (name !== "" && !ENV.test(name)) throw SettingsError.invalidEnv(name);
  return name;
}

/** `mail.smtp.host` → `MAIL_SMTP_HOST`: the variable settings:run and `--format env` use. */
export function envVarName(key: string): string {
  return key.toUpperCase().replaceAll(".", "_");
}

/**
 * A glob as Laravel's Str::is reads it: `*` matches any run of characters (dots included), so
 * `mail.*` matches `mail.smtp.host`; `?` matches one character. Case-sensitive.
 */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (const ch of glob) re += ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${re}$`);
}

export function matchesAny(key: string, globs: string[]): boolean {
  return globs.some((g) => globToRegExp(g).test(key));
}
