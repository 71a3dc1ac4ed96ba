/**
 * The settings repository of an App, built once per open store (commands and the config lookup
 * share it; after App.close() a new store gets a new repository, never stale statements).
 */
import { userInfo } from "node:os";
import type { App } from "../core/app.ts";
import type { Store } from "../core/store/store.ts";
import { openSecrets } from "./app-key.ts";
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
    repo = new SettingsRepository({ store, secrets: () => openSecrets(app), clock: app.clock, actor: actorOf(app.env) });
    repositories.set(store, repo);
  }
  return repo;
}
