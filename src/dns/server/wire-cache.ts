/**
 * Cache of encoded authoritative answers, keyed by transport limit, EDNS shape, RD/CD and the
 * lower-cased question. A hit costs one copy plus two patches: the client's ID, and the QNAME
 * bytes exactly as the client sent them (so 0x20 case randomisation round-trips; answer owners
 * are compression pointers to the question, so they follow). Cleared whenever zones change.
 */
/** Answers are carved out of 64 KiB slabs: one allocation per ~1000 answers instead of one each. */
const SLAB = 65536;

export class WireCache {
  private map = new Map<string, Buffer>();
  private slab = Buffer.allocUnsafe(SLAB);
  private used = 0;

  constructor(private maxEntries: number) {}

  get(key: string, query: Uint8Array, qnameEnd: number): Buffer | undefined {
    const cached = this.map.get(key);
    if (!cached) return undefined;
    if (this.used + cached.length > SLAB) {
      this.slab = Buffer.allocUnsafe(SLAB);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + cached.length);
    this.used += cached.length;
    cached.copy(out);
    out[0] = query[0]!;
    out[1] = query[1]!;
    for (let i = 12; i < qnameEnd; i++) out[i] = query[i]!;
    return out;
  }

  set(key: string, response: Buffer): void {
    if (this.maxEntries <= 0) return;
    // bounded without LRU bookkeeping on the hot path: start over when full
    if (this.map.size >= this.maxEntries) this.map.clear();
    this.map.set(key, response);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
