export type { Service, StartResult, StopOptions, ReloadResult, ServiceStatus } from "./service.ts";
export { runUntilSignal, startAll, stopAll, orderByDependencies } from "./run-services.ts";
export { splitHostPort, formatHostPort } from "./metrics-service.ts";
export { serveCommand, enabledServices } from "./commands.ts";
