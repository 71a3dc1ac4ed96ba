/**
 * Laravel's RateLimiter over any cache Repository: a fixed window of `decaySeconds` per key,
 * counted with the store's atomic add + increment, so every process sharing the store shares the
 * count. The proxy's rate limits and the queue's RateLimited middleware use this class.
 *
 *   const limiter = new RateLimiter(cache);
 *   if (await limiter.tooManyAttempts(`login:${ip}`, 5)) return 429 after limiter.availableIn(...)
 *   await limiter.hit(`login:${ip}`, 60);
 */
import type { Repository } from "./repository.ts";

/** A named limit (Laravel's Limit::perMinute(60)->by($key)). */
export interface Limit {
  /** Bucket key, e.g. the client IP or user id. */
  key: string;
  maxAttempts: number;
  decaySeconds: number;
}

export const Limit = {
  perSecond: (maxAttempts: number, key = "", decaySeconds = 1): Limit => ({ key, maxAttempts, decaySeconds }),
  perMinute: (maxAttempts: number, key = "", decaySeconds = 60): Limit => ({ key, maxAttempts, decaySeconds }),
  perMinutes: (minutes: number, maxAttempts: number, key = ""): Limit => ({ key, maxAttempts, decaySeconds: minutes * 60 }),
  perHour: (maxAttempts: number, key = "", decayHours = 1): Limit => ({ key, maxAttempts, decaySeconds: decayHours * 3600 }),
  perDay: (maxAttempts: number, key = "", decayDays = 1): Limit => ({ key, maxAttempts, decaySeconds: decayDays * 86400 }),
};

export class RateLimiter {
  private named = new Map<string, (...args: any[]) => Limit | Limit[]>();

  constructor(readonly cache: Repository) {}

  /** Register a named limiter (Laravel's RateLimiter::for). */
  for(name: string, resolve: (...args: any[]) => Limit | Limit[]): this {
    this.named.set(name, resolve);
    return this;
  }

  /** The named limiter's resolver, if registered. */
  limiter(name: string): ((...args: any[]) => Limit | Limit[]) | undefined {
    return this.named.get(name);
  }

  /** Run `fn` and count a hit unless the key is over `maxAttempts`; returns fn's result (true if none) or false. */
  async attempt<T>(key: string, maxAttempts: number, fn: () => T | Promise<T>, decaySeconds = 60): Promise<T | true | false> {
    if (await this.tooManyAttempts(key, maxAttempts)) return false;
    try {
      const result = await fn();
      return result === undefined || result === null ? true : result;
    } finally {
      await this.hit(key, decaySeconds);
    }
  }

  /** True when `key` has used up `maxAttempts` in the current window. */
  async tooManyAttempts(key: string, maxAttempts: number): Promise<boolean> {
    if ((await this.attempts(key)) >= maxAttempts) {
      if (await this.cache.has(`${key}:timer`)) return true;
      await this.resetAttempts(key); // the window is over but the counter outlived it
    }
    return false;
  }

  /** Count one (or `amount`) attempt; the window starts at the first hit. Returns the count. */
  async hit(key: string, decaySeconds = 60, amount = 1): Promise<number> {
    // whole seconds as Laravel (availableAt = now + decay): rounding up both here and in
    // availableIn would report decay + 1 seconds
    const availableAt = Math.floor(this.cache.clock.now() / 1000) + decaySeconds;
    await this.cache.add(`${key}:timer`, availableAt, decaySeconds);
    const added = await this.cache.add(key, 0, decaySeconds);
    const hits = Number(await this.cache.increment(key, amount));
    // the counter expired between add() and increment() and came back without a TTL: reset it
    if (!added && hits === amount) await this.cache.put(key, amount, decaySeconds);
    return hits;
  }

  /** Attempts made in the current window. */
  async attempts(key: string): Promise<number> {
    return Number((await this.cache.get<number>(key)) ?? 0);
  }

  resetAttempts(key: string): Promise<boolean> {
    return this.cache.forget(key);
  }

  /** Attempts left in the current window (never negative). */
  async remaining(key: string, maxAttempts: number): Promise<number> {
    return Math.max(0, maxAttempts - (await this.attempts(key)));
  }

  /** Laravel's alias of remaining(). */
  retriesLeft(key: string, maxAttempts: number): Promise<number> {
    return this.remaining(key, maxAttempts);
  }

  /** Seconds until the window of `key` ends (0 when it is not limited). */
  async availableIn(key: string): Promise<number> {
    const at = (await this.cache.get<number>(`${key}:timer`)) ?? 0;
    return Math.max(0, at - Math.floor(this.cache.clock.now() / 1000));
  }

  /** Forget the counter and its window. */
  async clear(key: string): Promise<void> {
    await this.cache.forget(key);
    await this.cache.forget(`${key}:timer`);
  }
}
