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

/**
 * Stop services in reverse dependency order: a service stops before the services it depends on,
 * and services that do not depend on each other stop at the same time, so their drain periods
 * overlap instead of adding up.
 */
export async function stopAll(services: Service[], opts: StopOptions): Promise<void> {
  // round = 0 for services nothing depends on, else 1 + the latest round of its dependents
  const dependents = new Map<string, Service[]>();
  for (const s of services) for (const d of s.dependsOn ?? []) dependents.set(d, [...(dependents.get(d) ?? []), s]);
  const round = new Map<string, number>();
  const roundOf = (s: Service, seen: Set<string>): number => {
    const known = round.get(s.name);
    if (known !== undefined) return known;
    if (seen.has(s.name)) return 0; // cycles were rejected at start; be safe anyway
    seen.add(s.name);
    const after = (dependents.get(s.name) ?? []).map((d) => roundOf(d, seen));
    const r = after.length ? Math.max(...after) + 1 : 0;
    round.set(s.name, r);
    return r;
  };
  for (const s of services) roundOf(s, new Set());
  const rounds = [...new Set(round.values())].sort((x, y) => x - y);
  for (const r of rounds) {
    await Promise.all(
      services
        .filter((s) => round.get(s.name) === r)
        .map((s) =>
          s.stop(opts).catch(() => {
            // a service that fails to stop must not keep the others running
          }),
        ),
    );
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
