/**
 * DNS metrics. Counting per query through the registry's labelled counters would build label
 * strings on every packet, so counts are aggregated in integer-keyed maps and flushed into the
 * registry once a second (and on demand, before /metrics or `status` reads them).
 */
import { metrics } from "../../core/metrics/registry.ts";
import { rcodeName, typeName } from "../wire/constants.ts";

export const PROTOS = ["udp", "tcp"] as const;
export type Proto = (typeof PROTOS)[number];

const queries = metrics.counter("dns_queries_total", "DNS queries answered, by query type, response code and transport");
const latency = metrics.histogram("dns_query_duration_seconds", "Time from receiving a query to its answer being ready (one query in 8 is timed)", [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);
const cacheHits = metrics.counter("dns_cache_hits_total", "Forwarder cache lookups that found an answer");
const cacheMisses = metrics.counter("dns_cache_misses_total", "Forwarder cache lookups that went upstream");
const answerCache = metrics.counter("dns_answer_cache_total", "Authoritative wire-answer cache lookups, by result");
const rrl = metrics.counter("dns_rrl_limited_total", "Answers held back by response-rate limiting, by action (drop, slip)");
const dropped = metrics.counter("dns_dropped_total", "Packets not answered, by reason");
const upstreamErrors = metrics.counter("dns_upstream_errors_total", "Upstream exchanges that failed (timeout, refused connection)");

const noSums = () => ({ cacheHit: 0, cacheMiss: 0, wireHit: 0, wireMiss: 0, rrlDrop: 0, rrlSlip: 0, upstreamErrors: 0 });
type Sums = ReturnType<typeof noSums>;

export interface StatsSnapshot {
  counts: Array<[number, number]>;
  latency: number[];
  sums: Sums;
  drops: Array<[string, number]>;
  total: number;
}

export class DnsStats {
  private counts = new Map<number, number>();
  private pendingLatency: number[] = [];
  private sums = noSums();
  private dropReasons = new Map<string, number>();
  total = 0;

  /** One answered query; `seconds` < 0 when this one was not timed (latency is sampled). */
  query(qtype: number, rcode: number, proto: Proto, seconds: number): void {
    const k = qtype * 8192 + (rcode & 0xfff) * 2 + (proto === "tcp" ? 1 : 0);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    if (seconds >= 0 && this.pendingLatency.length < 100_000) this.pendingLatency.push(seconds);
    this.total++;
  }

  wireCache(hit: boolean): void {
    hit ? this.sums.wireHit++ : this.sums.wireMiss++;
  }
  forwardCache(hit: boolean): void {
    hit ? this.sums.cacheHit++ : this.sums.cacheMiss++;
  }
  rrl(verdict: "drop" | "slip"): void {
    verdict === "drop" ? this.sums.rrlDrop++ : this.sums.rrlSlip++;
  }
  upstreamError(): void {
    this.sums.upstreamErrors++;
  }
  drop(reason: string): void {
    this.dropReasons.set(reason, (this.dropReasons.get(reason) ?? 0) + 1);
  }

  /** Counts since the last snapshot, as plain data another thread can post (and reset). */
  snapshot(): StatsSnapshot {
    const snap: StatsSnapshot = { counts: [...this.counts], latency: this.pendingLatency, sums: this.sums, drops: [...this.dropReasons], total: this.total };
    this.counts = new Map();
    this.pendingLatency = [];
    this.sums = noSums();
    this.dropReasons = new Map();
    this.total = 0;
    return snap;
  }

  /** Add another thread's snapshot to these counts. */
  merge(s: StatsSnapshot): void {
    for (const [k, n] of s.counts) this.counts.set(k, (this.counts.get(k) ?? 0) + n);
    for (const x of s.latency) if (this.pendingLatency.length < 100_000) this.pendingLatency.push(x);
    for (const key of Object.keys(s.sums) as Array<keyof Sums>) this.sums[key] += s.sums[key];
    for (const [r, n] of s.drops) this.dropReasons.set(r, (this.dropReasons.get(r) ?? 0) + n);
    this.total += s.total;
  }

  /** Move the aggregated counts into the Prometheus registry. */
  flush(): void {
    for (const [k, n] of this.counts) {
      queries.inc({ qtype: typeName(Math.floor(k / 8192)), rcode: rcodeName((k % 8192) >> 1), proto: k % 2 ? "tcp" : "udp" }, n);
    }
    this.counts.clear();
    for (const s of this.pendingLatency) latency.observe(s);
    this.pendingLatency = [];
    const s = this.sums;
    if (s.cacheHit) cacheHits.inc(undefined, s.cacheHit);
    if (s.cacheMiss) cacheMisses.inc(undefined, s.cacheMiss);
    if (s.wireHit) answerCache.inc({ result: "hit" }, s.wireHit);
    if (s.wireMiss) answerCache.inc({ result: "miss" }, s.wireMiss);
    if (s.rrlDrop) rrl.inc({ action: "drop" }, s.rrlDrop);
    if (s.rrlSlip) rrl.inc({ action: "slip" }, s.rrlSlip);
    if (s.upstreamErrors) upstreamErrors.inc(undefined, s.upstreamErrors);
    for (const [r, n] of this.dropReasons) dropped.inc({ reason: r }, n);
    this.dropReasons.clear();
    this.sums = noSums();
  }
}
