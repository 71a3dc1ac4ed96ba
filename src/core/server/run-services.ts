/**
 * Start services in dependency order, print one "NAME listening on ADDR" line per listener (tests
 * and scripts read these), stop them in reverse order.
 */
import type { App } from "../app.ts";
import { SecurelyError } from "../errors.ts";
import type { Service, StopOptions } from "./service.ts";

export function orderByDependencies(services: Service[]): Service[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out: Service[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: Service, chain: string[]) => {
    if (state.get(s.name) === "done") return;
    if (state.get(s.name) === "visiting") throw new SecurelyError(`service dependency cycle: ${[...chain, s.name].join(" → ")}`);
    state.set(s.name, "visiting");
    for (const d of s.dependsOn ?? []) {
      const dep = byName.get(d);
      if (dep) visit(dep, [...chain, s.name]);
    }
    state.set(s.name, "done");
    out.push(s);
  };
  for (const s of services) visit(s, []);
  return out;
}

export interface StartOptions {
  /**
   * Called after each service started, before its "listening on" lines are printed; throwing
   * here (a port another process holds) stops what started and fails the start.
   */
  onStarted?(service: Service, listening: string[]): void | Promise<void>;
}

export async function startAll(app: App, services: Service[], opts: StartOptions = {}): Promise<Service[]> {
  const started: Service[] = [];
  for (const s of orderByDependencies(services)) {
    try {
      const res = await s.start();
      started.push(s);
      await opts.onStarted?.(s, res?.listening ?? []);
      for (const addr of res?.listening ?? []) process.stdout.write(`${s.name} listening on ${addr}\n`);
      app.log.debug(`${s.name} started`);
    } catch (err) {
      await stopAll(started, { graceful: false, timeoutMs: 1000 });
      throw err instanceof SecurelyError ? err : new SecurelyError(`service ${s.name} failed to start: ${(err as Error).message}`);
    }
  }
  return started;
}

export async function stopAll(services: Service[], opts: StopOptions): Promise<void> {
  for (const s of [...services].reverse()) {
    try {
      await s.stop(opts);
    } catch {
      // a service that fails to stop must not keep the others running
    }
  }
}

/**
 * Run until SIGINT/SIGTERM without the rest of the server machinery (no pid file, workers or
 * upgrade). Kept for in-process tests; commands use `serveServices` from ./serve.ts.
 */
export async function runUntilSignal(app: App, services: Service[]): Promise<number> {
  const started = await startAll(app, services);
  process.stdout.write(`securely ready (${started.map((s) => s.name).join(", ")})\n`);
  return new Promise<number>((resolve) => {
    const graceMs = app.config.get<number>("grace_period_seconds") * 1000;
    const onSignal = (sig: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      const graceful = sig === "SIGTERM";
      app.log.info(`${sig}: ${graceful ? "graceful" : "fast"} shutdown`);
      stopAll(started, { graceful, timeoutMs: graceful ? graceMs : 0 }).then(() => resolve(0));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
