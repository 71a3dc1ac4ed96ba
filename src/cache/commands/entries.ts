/** cache:get, cache:put, cache:increment, cache:decrement, cache:forget. */
import { defineCommand } from "../../core/module.ts";
import { SecurelyError, UsageError } from "../../core/errors.ts";
import { parseDuration } from "../../core/validation/rules.ts";
import type { CacheValue } from "../types.ts";
import { jsonSafe, storeArg, withCache } from "./shared.ts";

export const cacheGet = defineCommand({
  name: "cache:get",
  description: "Print the value of KEY (exit 1 when missing or expired)",
  args: { key: { type: "positional", description: "Cache key", required: true }, ...storeArg },
  run: ({ app, args }) =>
    withCache(app, args.store, async (repo) => {
      const value = await repo.get(String(args.key));
      if (value === null) throw new SecurelyError(`cache key '${args.key}' not found in the ${repo.store.driver} store`, { code: "CACHE_MISS" });
      const ttl = await repo.ttl(String(args.key));
      if (!app.json && value instanceof Uint8Array) {
        process.stdout.write(value); // bytes go out as bytes, for `> file`
        return;
      }
      app.print({ key: args.key, value: jsonSafe(value), ttl_seconds: ttl ?? null }, (r) => (typeof r.value === "string" ? r.value : JSON.stringify(r.value)));
    }),
});

export const cachePut = defineCommand({
  name: "cache:put",
  description: "Store VALUE under KEY (JSON when VALUE parses as JSON, else a string)",
  args: {
    key: { type: "positional", description: "Cache key", required: true },
    value: { type: "positional", description: "Value: JSON (42, true, [1,2], {\"a\":1}, \"text\") or plain text", required: true },
    ttl: { type: "string", description: "Lifetime: seconds or 30s/5m/1h/1d (default: forever)" },
    string: { type: "boolean", description: "Store VALUE as a string even if it parses as JSON" },
    ...storeArg,
  },
  run: ({ app, args }) =>
    withCache(app, args.store, async (repo) => {
      const raw = String(args.value);
      let value: CacheValue = raw;
      if (!args.string) {
        try {
          value = JSON.parse(raw) as CacheValue;
        } catch {}
      }
      let ttl: number | null = null;
      if (args.ttl !== undefined) {
        const s = parseDuration(args.ttl);
        if (s === undefined) throw new UsageError(`cache:put: --ttl '${args.ttl}' is not a duration`, "write seconds, or 30s, 5m, 1h, 1d");
        ttl = s;
      }
      await repo.put(String(args.key), value, ttl);
      app.print({ key: args.key, value, ttl_seconds: ttl }, (r) => `stored ${r.key}${r.ttl_seconds !== null ? ` for ${r.ttl_seconds} s` : " (forever)"}`);
    }),
});

function stepCommand(name: "cache:increment" | "cache:decrement", sign: 1 | -1) {
  return defineCommand({
    name,
    description: `${sign > 0 ? "Add" : "Subtract"} BY (default 1) ${sign > 0 ? "to" : "from"} the number at KEY atomically; a missing key starts at 0`,
    args: {
      key: { type: "positional", description: "Cache key", required: true },
      by: { type: "positional", description: "Amount (default 1)", required: false },
      ...storeArg,
    },
    run: ({ app, args }) =>
      withCache(app, args.store, async (repo) => {
        const by = args.by === undefined ? 1 : Number(args.by);
        if (!Number.isFinite(by)) throw new UsageError(`${name}: BY '${args.by}' is not a number`);
        const value = await repo.increment(String(args.key), sign * by);
        app.print({ key: args.key, value }, (r) => String(r.value));
      }),
  });
}

export const cacheIncrement = stepCommand("cache:increment", 1);
export const cacheDecrement = stepCommand("cache:decrement", -1);

export const cacheForget = defineCommand({
  name: "cache:forget",
  description: "Remove KEY",
  args: { key: { type: "positional", description: "Cache key", required: true }, ...storeArg },
  run: ({ app, args }) =>
    withCache(app, args.store, async (repo) => {
      const removed = await repo.forget(String(args.key));
      app.print({ key: args.key, removed }, (r) => (r.removed ? `forgot ${r.key}` : `${r.key} was not cached`));
    }),
});
