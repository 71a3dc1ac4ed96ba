/**
 * `rate_limit.scope: shared`: the limit counted in a cache store (the cache namespace's
 * RateLimiter), so it holds across worker processes (`threads: N`) and across instances sharing a
 * redis cache. A fixed window of `per` seconds admitting `rate + burst` requests per key.
 *
 * Every request is counted first (the store's atomic increment) and then compared, so concurrent
 * workers never admit more than the limit between them; Laravel's tooManyAttempts-then-hit order
 * would let two workers both pass at the last slot. Rejected requests are counted too, which does
 * not lengthen the window.
 *
 * When the store fails (redis down) requests are let through and a warning is logged at most every
 * 10 s: a broken cache must not take the site down with it.
 */
import type { ConsolaInstance } from "consola";
import type { App } from "../../core/app.ts";
import { SecurelyError } from "../../core/errors.ts";
import { cacheOptions, rateLimiter, type RateLimiter } from "../../cache/index.ts";
import type { RateDecision } from "./rate-limit.ts";

/** What a shared limit needs of the cache's RateLimiter. */
export type CountingLimiter = Pick<RateLimiter, "hit" | "availableIn">;

/** The cache RateLimiter for `store` (default: cache.store); refuses stores that share nothing. */
export function cacheLimiter(app: App, store: string | undefined, where: string): CountingLimiter {
  const name = store ?? cacheOptions(app).store;
  if (name === "memory" || name === "null") {
    throw new SecurelyError(
      `${where}: scope shared needs a store worker processes share, but cache store "${name}" ${name === "memory" ? "is per process" : "counts nothing"}`,
      { code: "PROXY_RATE_LIMIT_STORE", hint: "set rate_limit.store (or cache.store) to sqlite or redis" },
    );
  }
  return rateLimiter(app, name);
}

const WARN_EVERY_MS = 10_000;

export class SharedRateLimiter {
  private warnedAt = -Infinity;
  /** Distinguishes routes in the store: "proxy:rate:ROUTE:". */
  private readonly prefix: string;

  constructor(
    private readonly limiter: CountingLimiter,
    readonly route: string,
    readonly max: number,
    readonly perSeconds: number,
    private readonly log?: ConsolaInstance,
  ) {
    this.prefix = `proxy:rate:${route}:`;
  }

  /** Count one request for `key`; undefined when the store failed (the request is let through). */
  async take(key: string): Promise<RateDecision | undefined> {
    // header-chosen keys can be long: keep store keys short and bounded
    const k = this.prefix + (key.length > 100 ? Bun.hash(key).toString(36) : key);
    try {
      const hits = await this.limiter.hit(k, this.perSeconds);
      // the cache rounds the window's end up to a whole second: never report more than the window
      const reset = Math.max(1, await this.limiter.availableIn(k)); // the RateLimiter never reports more than the window
      return { ok: hits <= this.max, limit: this.max, remaining: Math.max(0, this.max - hits), resetSeconds: reset };
    } catch (e) {
      const now = performance.now();
      if (now - this.warnedAt >= WARN_EVERY_MS) {
        this.warnedAt = now;
        this.log?.warn(`proxy route ${this.route} rate_limit: cache store failed, letting requests through: ${(e as Error).message}`);
      }
      return undefined;
    }
  }
}
