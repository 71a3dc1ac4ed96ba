/** Background service of `serve`: delete expired sqlite cache rows every `cache.prune_interval`. */
import type { App } from "../core/app.ts";
import type { Service } from "../core/server/service.ts";
import { cache, cacheOptions, closeCache } from "./manager.ts";

export function pruneService(app: App): Service {
  let timer: ReturnType<typeof setInterval> | undefined;
  let pruned = 0;
  let opts = cacheOptions(app);
  const tick = async () => {
    try {
      pruned += await cache(app).prune();
    } catch (err) {
      app.log.warn(`cache prune failed: ${(err as Error).message}`);
    }
  };
  return {
    name: "cache",
    kind: "background",
    async start() {
      await tick();
      timer = setInterval(tick, opts.prune_interval * 1000);
      (timer as any).unref?.();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await closeCache(app);
    },
    /** SIGHUP: a new prune_interval takes effect now; a new store needs a restart. */
    async reload(next) {
      const fresh = next.config.get<typeof opts>("cache");
      const needsRestart = fresh.store !== opts.store || JSON.stringify(fresh.redis) !== JSON.stringify(opts.redis) ? ["cache.store"] : [];
      if (fresh.prune_interval !== opts.prune_interval && timer) {
        clearInterval(timer);
        timer = fresh.prune_interval > 0 ? setInterval(tick, fresh.prune_interval * 1000) : undefined;
        (timer as any)?.unref?.();
      }
      opts = { ...fresh, store: opts.store, redis: opts.redis };
      return { applied: ["cache.prune_interval"], needsRestart };
    },
    status: () => ({ ready: true, store: opts.store, pruned }),
  };
}
