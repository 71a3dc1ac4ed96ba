/** Flags and helpers the cache commands share. */
import type { App } from "../../core/app.ts";
import { cache, closeCache } from "../manager.ts";
import type { Repository } from "../repository.ts";

export const storeArg = {
  store: { type: "string", description: "Store to use (sqlite, memory, redis, null); default cache.store" },
} as const;

/** Run `fn` with the chosen Repository and close it after, so hit counters and Redis connections are flushed. */
export async function withCache<T>(app: App, store: string | undefined, fn: (repo: Repository) => Promise<T>): Promise<T> {
  try {
    return await fn(cache(app, store));
  } finally {
    await closeCache(app);
  }
}

/** A value as JSON output shows it: bytes become {"$binary": base64}. */
export function jsonSafe(v: unknown): unknown {
  return v instanceof Uint8Array ? { $binary: Buffer.from(v).toString("base64") } : v;
}
