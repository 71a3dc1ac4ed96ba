/**
 * The one entry point for every command that runs services. `serve` calls it with every enabled
 * service; `proxy:serve`, `dns:serve`, `queue:work`, `schedule:work` call it with their own:
 *
 *   import { serveServices, SERVE_ARGS } from "../../core/server/index.ts";
 *   export const proxyServe = defineCommand({
 *     name: "proxy:serve", description: "…", args: { ...SERVE_ARGS },
 *     run: async ({ app, args }) => serveServices(app, await proxyServices(app), args),
 *   });
 *
 * The same call plays every role, chosen by flags and environment: `-t` checks and exits; the
 * `-d` launcher detaches a daemon; a worker process (SECURELY_WORKER set by the primary) runs one
 * listening service; otherwise this is the primary (see primary.ts).
 */
import type { App } from "../app.ts";
import { SecurelyError } from "../errors.ts";
import { launchDaemon } from "./daemon.ts";
import { ENV, type ServeFlags } from "./flags.ts";
import { metricsService } from "./metrics-service.ts";
import { orderByDependencies } from "./run-services.ts";
import { Primary } from "./primary.ts";
import type { Service } from "./service.ts";
import { runWorker } from "./worker.ts";

export interface ServeOptions {
  /** Add the metrics + /health listener when `metrics.enabled` (default true). */
  metrics?: boolean;
}

/** Run `services` until stopped; resolves with the process exit code. */
export async function serveServices(app: App, services: Service[], flags: ServeFlags = {}, opts: ServeOptions = {}): Promise<number> {
  const all = [...services];
  if ((opts.metrics ?? true) && app.config.get<boolean>("metrics.enabled") && !all.some((s) => s.name === "metrics")) {
    all.push(metricsService(app));
  }
  const names = new Set<string>();
  for (const s of all) {
    if (names.has(s.name)) throw new SecurelyError(`two services are named '${s.name}'`, { hint: "service names must be unique" });
    names.add(s.name);
  }
  orderByDependencies(all); // a dependency cycle fails here, before anything starts

  const worker = app.env[ENV.worker];
  if (worker) return runWorker(app, all, worker);
  if (flags.test) {
    app.print(
      { valid: true, config: app.configPath ?? null, services: all.map((s) => ({ name: s.name, kind: s.kind })) },
      (r) => `config ${r.config ?? "(defaults)"} is valid; services: ${r.services.map((s: Service) => s.name).join(", ") || "(none)"}`,
    );
    return 0;
  }
  if ((flags.daemon || app.config.get<boolean>("daemon")) && app.env[ENV.daemonChild] !== "1") return launchDaemon(app);
  app.store(); // migrations run before any service starts
  return new Primary(app, all, flags).run();
}
