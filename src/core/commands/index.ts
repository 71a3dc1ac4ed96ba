import { serveCommand, statusCommand, systemdUnitCommand } from "../server/index.ts";
import { defineModule } from "../module.ts";
import { sdkTypesCommand } from "../sdk/types.ts";
import { configCheck, configDocs, configGet, configShow } from "./config.ts";
import { storeBackup, storeCheck, storeInfo } from "./store.ts";
import { versionCommand } from "./version.ts";

/** Commands of the core itself: serve, status, version, config:*, store:*, sdk:types. */
export const coreModule = defineModule({
  name: "core",
  description: "serve, status, version, config and store",
  commands: [serveCommand, statusCommand, systemdUnitCommand, versionCommand, configShow, configGet, configCheck, configDocs, storeInfo, storeBackup, storeCheck, sdkTypesCommand],
});
