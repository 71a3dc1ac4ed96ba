/**
 * Active health checking. `HealthChecker` probes every upstream that enables it, each on its own
 * interval; the first round runs before start() resolves, so a server that is down at boot is never
 * sent traffic. It runs as the background service "proxy.health" when the proxy serves in this
 * process (threads: 1). With threads > 1 each worker process has its own upstream state, so each
 * worker's proxy service runs its own checker instead (health is per process, like the pool).
 */
import type { ConsolaInstance } from "consola";
import type { Service } from "../../core/server/service.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkUpstream } from "./active.ts";

export class HealthChecker {
  private timers: Timer[] = [];
  private running = new Set<Promise<void>>();
  private stopped = false;

  /** `upstreams` is read at each start, so a reload's new upstream groups are picked up by restart(). */
  constructor(private readonly upstreams: () => Upstream[], private readonly log: ConsolaInstance) {}

  private round(up: Upstream): Promise<void> | undefined {
    if (this.stopped) return;
    const p = checkUpstream(up).catch((e) => this.log.warn(`proxy.health ${up.name}: ${(e as Error).message}`));
    this.running.add(p);
    p.finally(() => this.running.delete(p));
    return p;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const active = this.upstreams().filter((u) => u.cfg.health.active.enabled);
    await Promise.all(active.map((u) => this.round(u)));
    for (const up of active) this.timers.push(setInterval(() => this.round(up), up.cfg.health.active.interval * 1000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearInterval(t);
    await Promise.all(this.running);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** The background service; idle when no upstream enables active checks. */
export function healthService(rt: { upstreams: Map<string, Upstream>; app: { log: ConsolaInstance } }): Service {
  const checker = new HealthChecker(() => [...rt.upstreams.values()], rt.app.log);
  return {
    name: "proxy.health",
    kind: "background",
    dependsOn: ["proxy"],
    start: () => checker.start(),
    stop: () => checker.stop(),
    // the proxy service (reloaded first) has swapped in the new upstream groups by now
    async reload() {
      await checker.restart();
      return { applied: ["proxy.health"], needsRestart: [] };
    },
    status: () => ({ ready: true, checking: [...rt.upstreams.values()].filter((u) => u.cfg.health.active.enabled).map((u) => u.name) }),
  };
}
