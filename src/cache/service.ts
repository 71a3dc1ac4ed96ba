/** Background service of `serve`: delete expired sqlite cache rows every `cache.prune_interval`. */
import type { App } from "../core/app.ts";
import type { Service } from "../core/server/service.ts";
import { cache, cacheOptions, closeCache } from "./manager.ts";

export function pruneService(app: App): Service {
  let timer: ReturnType<typeof setInterval> | undefined;
  let pruned = 0;
  const opts = cacheOptions(app);
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
    status: () => ({ ready: true, store: opts.store, pruned }),
  };
}
