/** The settings repository of an App, built once per App (commands and the config lookup share it). */
import { userInfo } from "node:os";
import type { App } from "../core/app.ts";
import { openSecrets } from "./app-key.ts";
import { SettingsRepository } from "./repository.ts";

const repositories = new WeakMap<App, SettingsRepository>();

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
  let repo = repositories.get(app);
  if (!repo) {
    repo = new SettingsRepository({ store: app.store(), secrets: () => openSecrets(app), clock: app.clock, actor: actorOf(app.env) });
    repositories.set(app, repo);
  }
  return repo;
}
