/**
 * Forwarding for names outside the local zones: conditional routes (`dns.forward.zones`, longest
 * suffix wins) or the default upstreams, tried in order with failover — the last upstream that
 * answered is tried first next time — and a positive/negative cache in front. Identical
 * questions in flight share one upstream exchange.
 */
import { FLAG, RCODE } from "../wire/constants.ts";
import { canonical, isSubdomain } from "../wire/names.ts";
import type { Question } from "../wire/types.ts";
import { AnswerCache, type CachedAnswer, type CacheOptions } from "./cache.ts";
import { UpstreamClient, UpstreamError, formatUpstream, type Upstream } from "./upstream.ts";

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** Conditional forwarding: canonical suffix → its upstreams. */
  routes: Array<{ suffix: string; upstreams: Upstream[] }>;
  timeoutMs: number;
  /** Distinct questions waiting on upstreams at once; more get SERVFAIL at once (each holds a socket). */
  maxInflight?: number;
  cache?: CacheOptions;
  onCache?: (hit: boolean) => void;
  onUpstreamError?: (message: string) => void;
}

export interface Forwarded extends CachedAnswer {
  /** "cache" or the upstream that answered; undefined when every upstream failed (SERVFAIL). */
  from?: string;
  /** AD bit as the upstream set it (passed through from a validating upstream). */
  authenticData: boolean;
}

export class Forwarder {
  readonly cache?: AnswerCache;
  private client = new UpstreamClient();
  private inflight = new Map<string, Promise<Forwarded>>();
  private preferred = new Map<Upstream[], number>();

  constructor(private opts: ForwarderOptions) {
    if (opts.cache && opts.cache.size > 0) this.cache = new AnswerCache(opts.cache);
    opts.routes.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  /** Upstreams for a name: the longest matching route, else the defaults. */
  upstreamsFor(name: string): Upstream[] {
    const key = canonical(name);
    for (const r of this.opts.routes) if (isSubdomain(key, r.suffix)) return r.upstreams;
    return this.opts.upstreams;
  }

  async resolve(q: Question, flags: { dnssecOk: boolean; cd: boolean }): Promise<Forwarded> {
    const key = AnswerCache.key(q.name, q.type, q.class, flags.dnssecOk);
    const cached = this.cache?.get(key);
    if (this.cache) this.opts.onCache?.(cached !== undefined);
    if (cached) return { ...cached, from: "cache", authenticData: false };
    let p = this.inflight.get(key);
    if (!p && this.inflight.size >= (this.opts.maxInflight ?? 1000)) {
      // a flood of unique names must not exhaust file descriptors: shed instead of queueing
      this.opts.onUpstreamError?.(`${this.inflight.size} upstream queries in flight; answering SERVFAIL`);
      return { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [], authenticData: false };
    }
    if (!p) {
      p = this.exchange(q, flags, key).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async exchange(q: Question, flags: { dnssecOk: boolean; cd: boolean }, key: string): Promise<Forwarded> {
    const list = this.upstreamsFor(q.name);
    const start = this.preferred.get(list) ?? 0;
    let last: Forwarded | undefined;
    for (let i = 0; i < list.length; i++) {
      const idx = (start + i) % list.length;
      const u = list[idx]!;
      try {
        const m = await this.client.query(u, q, { timeoutMs: this.opts.timeoutMs, dnssecOk: flags.dnssecOk, cd: flags.cd });
        const res: Forwarded = {
          rcode: m.rcode, answers: m.answers, authorities: m.authorities, additionals: m.additionals,
          from: formatUpstream(u), authenticData: (m.flags & FLAG.AD) !== 0,
        };
        // SERVFAIL and REFUSED are the upstream's trouble, not an answer: try the next one
        if (m.rcode === RCODE.SERVFAIL || m.rcode === RCODE.REFUSED) {
          last = res;
          continue;
        }
        this.preferred.set(list, idx);
        this.cache?.put(key, res);
        return res;
      } catch (e) {
        if (e instanceof UpstreamError) this.opts.onUpstreamError?.(e.message);
        else throw e;
      }
    }
    return last ?? { rcode: RCODE.SERVFAIL, answers: [], authorities: [], additionals: [], authenticData: false };
  }

  close(): void {
    this.client.close();
  }
}
