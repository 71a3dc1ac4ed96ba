/** The proxy's Prometheus series, registered once in the process-wide registry (core/metrics). */
import { metrics, type BoundCounter, type BoundHistogram, type Counter, type Histogram } from "../core/metrics/index.ts";

/**
 * Per-request series bound once per label combination (core metrics `labels()`): the registry's
 * per-call API builds a sorted, escaped label key on every call, which cost about 4% of the
 * proxy's CPU per request when done inline (measured with --cpu-prof). The combinations are
 * bounded by the config (routes × upstreams × statuses), so the maps stay small.
 */
class RequestSeries {
  /** route → upstream → bound series; nested maps, so no key string is built per request. */
  private byRoute = new Map<string, Map<string, { latency: BoundHistogram; counts: Map<number, BoundCounter> }>>();
  constructor(readonly counter: Counter, readonly histogram: Histogram) {}

  record(route: string, upstream: string, status: number, seconds: number): void {
    let ups = this.byRoute.get(route);
    if (!ups) this.byRoute.set(route, (ups = new Map()));
    let s = ups.get(upstream);
    if (!s) ups.set(upstream, (s = { latency: this.histogram.labels({ route, upstream }), counts: new Map() }));
    let c = s.counts.get(status);
    if (!c) s.counts.set(status, (c = this.counter.labels({ route, upstream, status })));
    c.inc();
    s.latency.observe(seconds);
  }
}

const active = metrics.gauge("securely_proxy_active_requests", "Requests in flight.");

export const proxyMetrics = {
  /** securely_proxy_requests_total and securely_proxy_request_duration_seconds, per request. */
  requests: new RequestSeries(
    metrics.counter("securely_proxy_requests_total", "Requests answered, by route, upstream and status."),
    metrics.histogram("securely_proxy_request_duration_seconds", "Time to response headers, by route and upstream."),
  ),
  connect: metrics.histogram("securely_proxy_upstream_connect_seconds", "Time to open a new upstream connection (TCP, and TLS when on)."),
  reused: metrics.counter("securely_proxy_upstream_reused_total", "Requests sent on a pooled keepalive connection, by upstream."),
  active,
  /** The same series bound once: inc/dec per request without building its (empty) label key each time. */
  inFlight: active.labels({}),
  connections: metrics.gauge("securely_proxy_client_connections", "Open client connections on raw-front listeners (passed-through ones included)."),
  retries: metrics.counter("securely_proxy_retries_total", "Retried upstream attempts, by upstream and reason."),
  upstreamErrors: metrics.counter("securely_proxy_upstream_errors_total", "Failed upstream attempts, by upstream, server and kind."),
  health: metrics.gauge("securely_proxy_upstream_healthy", "1 when the server is considered healthy, else 0."),
  healthChanges: metrics.counter("securely_proxy_health_changes_total", "Health transitions, by upstream, server and new state."),
  rateLimited: metrics.counter("securely_proxy_rate_limited_total", "Requests answered 429, by route."),
};

