/**
 * Laravel's RateLimited job middleware: at most `max` attempts per `perSeconds` window for a key,
 * shared by every worker; over the limit, the job is released until the window resets.
 *
 * It counts with the cache namespace's RateLimiter when the app wires one (`ctx.rateLimiter`, from
 * `app.provided.rateLimiter` in src/main.ts), so jobs and the proxy's shared rate limits use one
 * implementation and one store; without it (library use) it counts through the queue's driver.
 * Each attempt is counted before it is compared, so concurrent workers never run more than `max`
 * between them (Laravel checks, then hits, which lets two workers take the last slot).
 */
import type { JobMiddleware } from "../types.ts";

export function rateLimited(opts: { key: string; max: number; perSeconds: number }): JobMiddleware {
  return async (ctx, _payload, next) => {
    const limiter = ctx.rateLimiter;
    if (limiter) {
      const key = `queue:rate:${opts.key}`;
      if ((await limiter.hit(key, opts.perSeconds)) > opts.max) return ctx.release(await limiter.availableIn(key));
      return next();
    }
    const { count, resetAt } = await ctx.driver.hit(`rate:${opts.key}`, opts.perSeconds * 1000, ctx.now());
    if (count > opts.max) return ctx.release(Math.max(0, (resetAt - ctx.now()) / 1000));
    return next();
  };
}
