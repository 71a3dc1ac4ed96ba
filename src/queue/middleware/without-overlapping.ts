/**
 * Laravel's WithoutOverlapping job middleware: only one job with this key runs at a time across
 * all workers; a job that finds the lock taken is released for `releaseAfter` seconds. The lock
 * expires after `expireAfter` seconds so a crashed worker cannot hold it forever.
 */
import type { JobMiddleware } from "../types.ts";

export function withoutOverlapping(key: string, opts: { releaseAfter?: number; expireAfter?: number } = {}): JobMiddleware {
  return async (ctx, _payload, next) => {
    const owner = `${process.pid}:${ctx.jobId}:${ctx.attempt}`;
    const lock = `overlap:${key}`;
    if (!(await ctx.driver.acquireLock(lock, owner, (opts.expireAfter ?? 3600) * 1000, ctx.now()))) return ctx.release(opts.releaseAfter ?? 0);
    try {
      return await next();
    } finally {
      await ctx.driver.releaseLock(lock, owner);
    }
  };
}
