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

export function lookupSetting(app: App, name: string): string | undefined {
  if (!isValidKey(name)) return undefined;
  const path = app.storePath;
  if (path !== ":memory:" && !existsSync(path)) return undefined;
  try {
    return settingsRepository(app).get(name, profileName(undefined, app.env))?.value;
  } catch (err) {
    if (!(err instanceof SecurelyError)) throw err;
    throw new SecurelyError(`config \${${name}} reads setting '${name}': ${err.message}`, { code: err.code });
  }
}
