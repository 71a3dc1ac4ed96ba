/** The proxy's Prometheus series, registered once in the process-wide registry (core/metrics). */
import { metrics } from "../core/metrics/index.ts";

export const proxyMetrics = {
  requests: metrics.counter("securely_proxy_requests_total", "Requests answered, by route, upstream and status."),
  latency: metrics.histogram("securely_proxy_request_duration_seconds", "Time to response headers, by route and upstream."),
  connect: metrics.histogram("securely_proxy_upstream_connect_seconds", "Time to get an upstream connection (0 when reused from the pool)."),
  active: metrics.gauge("securely_proxy_active_requests", "Requests in flight, by listener."),
  retries: metrics.counter("securely_proxy_retries_total", "Retried upstream attempts, by upstream and reason."),
  upstreamErrors: metrics.counter("securely_proxy_upstream_errors_total", "Failed upstream attempts, by upstream, server and kind."),
  health: metrics.gauge("securely_proxy_upstream_healthy", "1 when the server is considered healthy, else 0."),
  healthChanges: metrics.counter("securely_proxy_health_changes_total", "Health transitions, by upstream, server and new state."),
  rateLimited: metrics.counter("securely_proxy_rate_limited_total", "Requests answered 429, by route."),
};
