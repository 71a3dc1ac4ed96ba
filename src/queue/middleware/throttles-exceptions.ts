/**
 * Laravel's ThrottlesExceptions job middleware: after `maxExceptions` exceptions within
 * `decaySeconds` (per key), further attempts are released until the window resets instead of
 * running (and failing) again. As in Laravel, an exception releases the job for `backoff` seconds
 * (the attempt still counts, so --tries bounds the retries) instead of failing it.
 */
import type { JobMiddleware } from "../types.ts";

export function throttlesExceptions(maxExceptions: number, decaySeconds: number, opts: { key?: string; backoff?: number } = {}): JobMiddleware {
  return async (ctx, _payload, next) => {
    const key = `throttle:${opts.key ?? ctx.handler}`;
    const { count, resetAt } = await ctx.driver.hits(key, ctx.now());
    if (count >= maxExceptions) return ctx.release(Math.max(0, (resetAt - ctx.now()) / 1000));
    try {
      const r = await next();
      await ctx.driver.resetHits(key);
      return r;
    } catch (err) {
      await ctx.driver.hit(key, decaySeconds * 1000, ctx.now());
      ctx.log.info(`job #${ctx.jobId} ${ctx.handler}: ${(err as Error)?.message ?? err} (throttled, released)`);
      ctx.release(opts.backoff ?? 0);
    }
  };
}
