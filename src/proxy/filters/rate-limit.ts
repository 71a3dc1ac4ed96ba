/**
 * Token-bucket rate limiting per key (client IP, a header, or one shared bucket), in this process
 * only: with `threads: N` each worker keeps its own buckets, so the effective limit is up to N times
 * the configured one. Over the limit the client gets 429 with IETF RateLimit headers
 * (draft-ietf-httpapi-ratelimit-headers) and Retry-After.
 */
export interface RateDecision {
  ok: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a token is available (for Retry-After / RateLimit-Reset). */
  resetSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucketLimiter {
  private buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  private readonly perMs: number;

  constructor(
    readonly rate: number,
    readonly perSeconds: number,
    readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {
    this.capacity = rate + burst;
    this.perMs = rate / (perSeconds * 1000);
  }

  take(key: string, now: number): RateDecision {
    let b = this.buckets.get(key);
    if (!b) {
      // a flood of distinct keys must not grow memory without bound: start over (fail open)
      if (this.buckets.size >= this.maxKeys) this.buckets.clear();
      b = { tokens: this.capacity, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.capacity, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, limit: this.capacity, remaining: Math.floor(b.tokens), resetSeconds: Math.ceil((this.capacity - b.tokens) / this.perMs / 1000) };
    }
    return { ok: false, limit: this.capacity, remaining: 0, resetSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000)) };
  }
}

export function rateLimitHeaders(d: RateDecision, perSeconds: number): Record<string, string> {
  const h: Record<string, string> = {
    "ratelimit-limit": String(d.limit),
    "ratelimit-remaining": String(d.remaining),
    "ratelimit-reset": String(d.resetSeconds),
    "ratelimit-policy": `${d.limit};w=${perSeconds}`,
  };
  if (!d.ok) h["retry-after"] = String(d.resetSeconds);
  return h;
}
