/**
 * Cache of encoded authoritative answers, keyed by transport limit, EDNS shape, RD/CD and the
 * lower-cased question. A hit costs one copy plus two patches: the client's ID, and the QNAME
 * bytes exactly as the client sent them (so 0x20 case randomisation round-trips; answer owners
 * are compression pointers to the question, so they follow). Cleared whenever zones change.
 *
 * Lookups hash the question bytes (parseQuery does it while scanning) and compare bytes on a
 * hit, so the hot path builds no key string.
 */

interface Entry {
  /** Limit, EDNS shape and flags folded into one number. */
  variant: number;
  /** Lower-cased question bytes (QNAME+QTYPE+QCLASS). */
  question: Uint8Array;
  response: Buffer;
  next?: Entry;
}

export class WireCache {
  private map = new Map<number, Entry>();
  private count = 0;

  constructor(private maxEntries: number) {}

  /** `variant`: what besides the question shapes the answer; `hash`: ParsedQuery.questionHash. */
  get(variant: number, hash: number, query: Uint8Array, questionEnd: number, qnameEnd: number): Buffer | undefined {
    let e = this.map.get(hash);
    while (e && !(e.variant === variant && sameQuestion(e.question, query, questionEnd))) e = e.next;
    if (!e) return undefined;
    const cached = e.response;
    // a fresh copy per answer: the same entry may be in several queued datagrams at once
    const out = Buffer.allocUnsafe(cached.length);
    cached.copy(out);
    out[0] = query[0]!;
    out[1] = query[1]!;
    for (let i = 12; i < qnameEnd; i++) out[i] = query[i]!;
    return out;
  }

  set(variant: number, hash: number, query: Uint8Array, questionEnd: number, response: Buffer): void {
    if (this.maxEntries <= 0) return;
    // bounded without LRU bookkeeping on the hot path: start over when full
    if (this.count >= this.maxEntries) this.clear();
    const question = new Uint8Array(questionEnd - 12);
    for (let i = 12; i < questionEnd; i++) {
      const c = query[i]!;
      question[i - 12] = c >= 65 && c <= 90 ? c | 0x20 : c;
    }
    this.map.set(hash, { variant, question, response, next: this.map.get(hash) });
    this.count++;
  }

  clear(): void {
    this.map.clear();
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }
}

function sameQuestion(stored: Uint8Array, query: Uint8Array, questionEnd: number): boolean {
  if (stored.length !== questionEnd - 12) return false;
  for (let i = 0; i < stored.length; i++) {
    const c = query[12 + i]!;
    if (stored[i] !== (c >= 65 && c <= 90 ? c | 0x20 : c)) return false;
  }
  return true;
}
