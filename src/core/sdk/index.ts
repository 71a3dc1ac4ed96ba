export { installSdk, sdkExports } from "./plugin.ts";
export { loadUserModule } from "./load-user-module.ts";
