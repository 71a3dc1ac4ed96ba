import { serveCommand, statusCommand, systemdUnitCommand } from "../server/index.ts";
import { defineModule } from "../module.ts";
import { configCheck, configGet, configShow } from "./config.ts";
import { storeBackup, storeCheck, storeInfo } from "./store.ts";
import { versionCommand } from "./version.ts";

/** Commands of the core itself: serve, status, systemd:unit, version, config:*, store:*. */
export const coreModule = defineModule({
  name: "core",
  description: "version, config and store",
  commands: [serveCommand, statusCommand, systemdUnitCommand, versionCommand, configShow, configGet, configCheck, storeInfo, storeBackup, storeCheck],
});
