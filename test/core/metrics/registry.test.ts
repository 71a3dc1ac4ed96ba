import { expect, test } from "bun:test";
import { Registry } from "../../../src/core/metrics/registry.ts";

test("Prometheus text format for counters, gauges and histograms with labels", () => {
  const r = new Registry();
  r.counter("securely_requests_total", "Requests").inc({ route: "api", status: 200 }, 2);
  r.gauge("securely_up", "Up").set(1);
  const h = r.histogram("securely_latency_seconds", "Latency", [0.1, 1]);
  h.observe(0.05, { route: "a\"b" });
  h.observe(0.5, { route: "a\"b" });
  expect(r.render()).toBe(
    [
      "# HELP securely_requests_total Requests",
      "# TYPE securely_requests_total counter",
      'securely_requests_total{route="api",status="200"} 2',
      "# HELP securely_up Up",
      "# TYPE securely_up gauge",
      "securely_up 1",
      "# HELP securely_latency_seconds Latency",
      "# TYPE securely_latency_seconds histogram",
      'securely_latency_seconds_bucket{route="a\\"b",le="0.1"} 1',
      'securely_latency_seconds_bucket{route="a\\"b",le="1"} 2',
      'securely_latency_seconds_bucket{route="a\\"b",le="+Inf"} 2',
      'securely_latency_seconds_sum{route="a\\"b"} 0.55',
      'securely_latency_seconds_count{route="a\\"b"} 2',
      "",
    ].join("\n"),
  );
});
