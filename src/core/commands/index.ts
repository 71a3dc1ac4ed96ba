import { serveCommand } from "../server/commands.ts";
import { defineModule } from "../module.ts";
import { configCheck, configDocs, configGet, configShow } from "./config.ts";
import { storeBackup, storeCheck, storeInfo } from "./store.ts";
import { versionCommand } from "./version.ts";

/** Commands of the core itself: version, config:*, store:*. */
export const coreModule = defineModule({
  name: "core",
  description: "version, config and store",
  commands: [serveCommand, versionCommand, configShow, configGet, configCheck, configDocs, storeInfo, storeBackup, storeCheck],
});
