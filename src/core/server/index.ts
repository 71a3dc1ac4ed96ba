/**
 * @module core/server — Pingora's Server for securely: services, workers, signals, daemon,
 * zero-downtime upgrade, pid/status files. Namespaces implement `Service` and run theirs with
 * `serveServices(app, services, flags)`; HTTP services use `HttpDrain` for a clean graceful stop
 * and `sharedPort` so `port: 0` survives workers and upgrades.
 */
export type { Service, StartResult, StopOptions, ReloadResult, ServiceStatus } from "./service.ts";
export { runUntilSignal, startAll, stopAll, orderByDependencies } from "./run-services.ts";
export { splitHostPort, formatHostPort, metricsService } from "./metrics-service.ts";
export { serveServices, type ServeOptions } from "./serve.ts";
export { SERVE_ARGS, type ServeFlags } from "./flags.ts";
export { HttpDrain, DRAIN_LINGER_MS, type DrainTarget } from "./http-drain.ts";
export { sharedPort } from "./ports.ts";
export { startThread } from "./threads.ts";
export { runningServices } from "./running.ts";
export { serveCommand, enabledServices } from "./commands/serve.ts";
export { statusCommand } from "./commands/status.ts";
export { systemdUnitCommand } from "./commands/systemd-unit.ts";
