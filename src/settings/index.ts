/**
 * @module settings — KEY=VALUE settings and encrypted secrets in the store (the `.env` of a
 * securely host), profiles, change hooks, and the app key's commands. `lookupSetting` is what
 * src/main.ts wires into config `${NAME}` interpolation.
 */
import { defineModule } from "../core/module.ts";
import { settingsCommands } from "./commands/index.ts";
import { settingsConfig } from "./config.ts";
import { settingsMigrations } from "./migrations.ts";

export { lookupSetting, readSetting } from "./lookup.ts";
export { SETTINGS_TOPIC } from "./repository.ts";
export type { Change, Setting } from "./types.ts";

export const settingsModule = defineModule({
  name: "settings",
  description: "settings and secrets (settings:*, key:*, crypt:*)",
  commands: settingsCommands,
  config: settingsConfig,
  migrations: settingsMigrations,
  services: () => [],
});
