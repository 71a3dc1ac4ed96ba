/**
 * The settings repository of an App, built once per open store (commands and the config lookup
 * share it; after App.close() a new store gets a new repository, never stale statements).
 */
import { userInfo } from "node:os";
import type { App } from "../core/app.ts";
import type { Store } from "../core/store/store.ts";
import { SecurelyError } from "../core/errors.ts";
import { keyFilePath, openSecrets } from "./app-key.ts";
import { SettingsRepository } from "./repository.ts";

const repositories = new WeakMap<Store, SettingsRepository>();

/** Who is writing: the sudo caller if any, else the login user (recorded in settings:history). */
export function actorOf(env: Record<string, string | undefined>): string {
  if (env.SUDO_USER) return env.SUDO_USER;
  if (env.USER) return env.USER;
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "?"}`;
  }
}

export function settingsRepository(app: App): SettingsRepository {
  const store = app.store();
  let repo = repositories.get(store);
  if (!repo) {
    repo = new SettingsRepository({ store, secrets: () => secretsOrRestoreHint(app, store), clock: app.clock, actor: actorOf(app.env) });
    repositories.set(store, repo);
  }
  return repo;
}

/**
 * "run key:generate" is the right hint for a first secret, the wrong one when secrets already exist:
 * a new key cannot read them. Then the key must be restored, not replaced.
 */
function secretsOrRestoreHint(app: App, store: Store) {
  try {
    return openSecrets(app);
  } catch (err) {
    if (!(err instanceof SecurelyError) || err.code !== "CRYPTO_NO_KEY") throw err;
    const n = (store.db.query("SELECT count(*) AS n FROM settings_values WHERE secret = 1").get() as { n: number }).n;
    if (n === 0) throw err;
    throw new SecurelyError(`no app key: ${n} secret setting${n === 1 ? " is" : "s are"} encrypted, but SECURELY_KEY is not set and ${keyFilePath(app)} does not exist`, {
      code: "CRYPTO_NO_KEY",
      hint: "restore the key file from a backup (or set SECURELY_KEY to that key); key:generate would make a new key that cannot read them",
    });
  }
}
