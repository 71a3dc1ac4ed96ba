/**
 * Laravel's RateLimited job middleware: at most `max` attempts per `perSeconds` window for a key
 * (shared by every worker through the store); over the limit, the job is released until the
 * window resets.
 */
import type { JobMiddleware } from "../types.ts";

export function rateLimited(opts: { key: string; max: number; perSeconds: number }): JobMiddleware {
  return async (ctx, _payload, next) => {
    const { count, resetAt } = await ctx.driver.hit(`rate:${opts.key}`, opts.perSeconds * 1000, ctx.now());
    if (count > opts.max) return ctx.release(Math.max(0, (resetAt - ctx.now()) / 1000));
    return next();
  };
}
