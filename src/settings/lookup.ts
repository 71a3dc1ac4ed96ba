/**
 * `${NAME}` in the config reads settings (after the process environment, before the default).
 * Runs while the config is loading, so it finds the store and the key through bootstrap values,
 * and never creates a store that does not exist yet.
 */
import { existsSync } from "node:fs";
import type { App } from "../core/app.ts";
import { SecurelyError } from "../core/errors.ts";
import { settingsRepository } from "./context.ts";
import { isValidKey, profileName } from "./names.ts";

/** Provided.lookupSetting: a failure names the `${NAME}` that needed the setting. */
export function lookupSetting(app: App, name: string): string | undefined {
  try {
    return readSetting(app, name);
  } catch (err) {
    if (!(err instanceof SecurelyError)) throw err;
    throw new SecurelyError(`config \${${name}} reads setting '${name}': ${err.message}`, { code: err.code });
  }
}

/**
 * A setting's value (secrets decrypted) in the SECURELY_ENV profile, or undefined when it is not
 * set, the name is not a setting name, or no store exists yet. For code outside the config
 * (queue jobs' ctx.settings): errors are the repository's own, without the `${NAME}` framing.
 */
export function readSetting(app: App, name: string): string | undefined {
  if (!isValidKey(name)) return undefined;
  const path = app.storePath;
  if (path !== ":memory:" && !existsSync(path)) return undefined;
  return settingsRepository(app).get(name, profileName(undefined, app.env))?.value;
}
