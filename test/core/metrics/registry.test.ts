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

test("labels() binds a series once: same output as the per-call API, shared with it", () => {
  const a = new Registry();
  const b = new Registry();
  const ca = a.counter("c_total", "C");
  const ok = ca.labels({ status: 200, route: "api" });
  // nothing is rendered for a bound series until it is used
  expect(a.render()).toBe("# HELP c_total C\n# TYPE c_total counter\n");
  ok.inc();
  ok.inc(2);
  ca.inc({ route: "api", status: 200 }); // the per-call API writes the same series
  b.counter("c_total", "C").inc({ route: "api", status: 200 }, 4);
  expect(ok.get()).toBe(4);
  expect(ca.get({ route: "api", status: "200" })).toBe(4);

  const g = a.gauge("g", "G").labels({ q: 'x"y' });
  g.set(5);
  g.inc();
  g.dec(3);
  b.gauge("g", "G").set(3, { q: 'x"y' });
  expect(g.get()).toBe(3);

  const ha = a.histogram("h_seconds", "H", [0.1, 1]);
  const bound = ha.labels({ route: "a" });
  bound.observe(0.05);
  bound.observe(2);
  ha.observe(0.5, { route: "a" });
  const hb = b.histogram("h_seconds", "H", [0.1, 1]);
  for (const v of [0.05, 2, 0.5]) hb.observe(v, { route: "a" });
  expect(bound.count()).toBe(3);
  expect(a.render()).toBe(b.render());
  expect(a.render()).toContain('h_seconds_bucket{route="a",le="1"} 2');
});
