/**
 * The background service "proxy.health": runs active checks for every upstream that enables them,
 * each on its own interval. The first round runs before start() resolves, so a server that is down
 * at boot is never sent traffic.
 */
import type { ConsolaInstance } from "consola";
import type { Service } from "../../core/server/service.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkUpstream } from "./active.ts";

export function healthService(upstreams: Upstream[], log: ConsolaInstance): Service {
  const timers: Timer[] = [];
  const running = new Set<Promise<void>>();
  let stopped = false;
  const round = (up: Upstream) => {
    if (stopped) return;
    const p = checkUpstream(up).catch((e) => log.warn(`proxy.health ${up.name}: ${(e as Error).message}`));
    running.add(p);
    p.finally(() => running.delete(p));
    return p;
  };
  return {
    name: "proxy.health",
    kind: "background",
    dependsOn: ["proxy"],
    async start() {
      const active = upstreams.filter((u) => u.cfg.health.active.enabled);
      await Promise.all(active.map(round));
      for (const up of active) timers.push(setInterval(() => round(up), up.cfg.health.active.interval * 1000));
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(running);
    },
    status: () => ({ ready: true, upstreams: upstreams.map((u) => u.describe()) }),
  };
}
