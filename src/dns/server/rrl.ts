/**
 * Response-rate limiting per client network (RRL-style, as Knot's mod-rrl): a token bucket per
 * /24 (IPv4) or /56 (IPv6) refilled at `responses_per_second`. Over the limit, answers are
 * dropped, except every `slip`-th, which goes out truncated (TC=1) so a real client retries over
 * TCP while a spoofed victim of reflection gets nothing large. UDP only.
 */
export interface RrlOptions {
  responsesPerSecond: number;
  /** Burst allowance, in seconds' worth of tokens. */
  window: number;
  /** Every Nth limited answer is sent truncated (0 = drop all). */
  slip: number;
}

export type RrlVerdict = "ok" | "drop" | "slip";

interface Bucket {
  tokens: number;
  at: number;
  limited: number;
}

const MAX_BUCKETS = 100_000;

export class RateLimiter {
  private buckets = new Map<string, Bucket>();
  dropped = 0;
  slipped = 0;

  constructor(private opts: RrlOptions, private now: () => number = Date.now) {}

  static prefix(address: string): string {
    if (address.startsWith("::ffff:")) address = address.slice(7);
    if (!address.includes(":")) return address.slice(0, address.lastIndexOf("."));
    // first 56 bits = 3.5 groups; group granularity (/48 + half) is close enough and cheap
    return address.split(":").slice(0, 4).join(":").slice(0, -2);
  }

  check(address: string): RrlVerdict {
    const key = RateLimiter.prefix(address);
    const now = this.now();
    const cap = this.opts.responsesPerSecond * this.opts.window;
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      this.buckets.set(key, (b = { tokens: cap, at: now, limited: 0 }));
    } else {
      b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * this.opts.responsesPerSecond);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return "ok";
    }
    b.limited++;
    if (this.opts.slip > 0 && b.limited % this.opts.slip === 0) {
      this.slipped++;
      return "slip";
    }
    this.dropped++;
    return "drop";
  }
}
