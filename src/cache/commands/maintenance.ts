/** cache:flush, cache:stats, cache:prune. */
import { defineCommand } from "../../core/module.ts";
import { storeArg, withCache } from "./shared.ts";

export const cacheFlush = defineCommand({
  name: "cache:flush",
  description: "Remove every entry and lock of the store, or with --tags only entries stored under those tags",
  args: {
    tags: { type: "string", description: "Comma-separated tags: flush only entries stored under any of them" },
    ...storeArg,
  },
  run: ({ app, args }) =>
    withCache(app, args.store, async (repo) => {
      const tags = args.tags ? String(args.tags).split(",").map((t) => t.trim()).filter(Boolean) : [];
      if (tags.length) await repo.flushTags(tags);
      else await repo.flush();
      app.print({ store: repo.store.driver, flushed: true, tags }, (r) => (r.tags.length ? `flushed tags ${r.tags.join(", ")}` : `flushed the ${r.store} cache`));
    }),
});

/** Laravel's name for cache:flush, so `cache:clear` works from muscle memory. */
export const cacheClear = defineCommand({ ...cacheFlush, name: "cache:clear", description: "Same as cache:flush (Laravel's name)" });

export const cacheStats = defineCommand({
  name: "cache:stats",
  description: "Show entries, value bytes, locks and hit ratio of the store",
  args: { ...storeArg },
  run: ({ app, args }) =>
    withCache(app, args.store, async (repo) => {
      const s = await repo.stats();
      app.print({ store: repo.store.driver, ...s }, (r) =>
        [
          `store:     ${r.store}`,
          `entries:   ${r.entries}`,
          `bytes:     ${r.bytes}`,
          `locks:     ${r.locks}`,
          `hits:      ${r.hits}`,
          `misses:    ${r.misses}`,
          `hit ratio: ${r.hit_ratio === null ? "-" : (r.hit_ratio * 100).toFixed(1) + "%"}`,
        ].join("\n"),
      );
    }),
});

export const cachePrune = defineCommand({
  name: "cache:prune",
  description: "Delete expired entries and locks (serve also does this every cache.prune_interval)",
  args: { ...storeArg },
  run: ({ app, args }) =>
    withCache(app, args.store, async (repo) => {
      const removed = await repo.prune();
      app.print({ store: repo.store.driver, removed }, (r) => `pruned ${r.removed} expired rows from the ${r.store} cache`);
    }),
});
