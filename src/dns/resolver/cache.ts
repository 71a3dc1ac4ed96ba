/**
 * The forwarder's answer cache: positive answers for the smallest TTL in the answer, negative
 * answers (NXDOMAIN, NODATA) for min(SOA TTL, SOA MINIMUM) per RFC 2308 §5, both capped;
 * TTLs count down on every hit; least recently used entries go first when full.
 */
import { RCODE, TYPE } from "../wire/constants.ts";
import type { Rr } from "../wire/types.ts";

export interface CachedAnswer {
  rcode: number;
  answers: Rr[];
  authorities: Rr[];
  additionals: Rr[];
}

export interface CacheOptions {
  /** Entries kept. */
  size: number;
  /** Longest a positive answer is kept, seconds. */
  maxTtl: number;
  /** Shortest a positive answer is kept, seconds (0 = as the upstream says). */
  minTtl: number;
  /** Longest a negative answer is kept, seconds. */
  negativeMaxTtl: number;
}

interface Entry {
  value: CachedAnswer;
  storedAt: number;
  expiresAt: number;
}

export class AnswerCache {
  private entries = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(private opts: CacheOptions, private now: () => number = Date.now) {}

  static key(name: string, type: number, klass: number, dnssecOk: boolean): string {
    return `${name.toLowerCase()}|${type}|${klass}|${dnssecOk ? 1 : 0}`;
  }

  /** The cached answer with TTLs reduced by its age, or undefined. */
  get(key: string): CachedAnswer | undefined {
    const e = this.entries.get(key);
    const now = this.now();
    if (!e || e.expiresAt <= now) {
      if (e) this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e); // most recently used goes last
    this.hits++;
    const age = Math.floor((now - e.storedAt) / 1000);
    const dec = (rrs: Rr[]) => rrs.map((rr) => ({ ...rr, ttl: Math.max(0, rr.ttl - age) }));
    return { rcode: e.value.rcode, answers: dec(e.value.answers), authorities: dec(e.value.authorities), additionals: dec(e.value.additionals) };
  }

  /** Store an upstream answer if RFC 2308 lets us; returns the TTL used (0 = not cached). */
  put(key: string, value: CachedAnswer): number {
    const ttl = this.ttlFor(value);
    if (ttl <= 0 || this.opts.size <= 0) return 0;
    if (this.entries.size >= this.opts.size && !this.entries.has(key)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const now = this.now();
    this.entries.set(key, { value, storedAt: now, expiresAt: now + ttl * 1000 });
    return ttl;
  }

  ttlFor(v: CachedAnswer): number {
    const negative = v.rcode === RCODE.NXDOMAIN || (v.rcode === RCODE.NOERROR && v.answers.length === 0);
    if (negative) {
      const soa = v.authorities.find((rr) => rr.type === TYPE.SOA);
      if (!soa) return 0; // no SOA: RFC 2308 §5 says do not cache
      return Math.min(soa.ttl, soa.data?.minimum ?? soa.ttl, this.opts.negativeMaxTtl);
    }
    if (v.rcode !== RCODE.NOERROR) return 0;
    const min = Math.min(...v.answers.map((rr) => rr.ttl));
    return Math.min(Math.max(min, this.opts.minTtl), this.opts.maxTtl);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
