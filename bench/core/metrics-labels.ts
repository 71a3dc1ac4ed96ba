/**
 * Per-call labels (`counter.inc({...})`, a sorted escaped key built each time) against a series
 * bound once (`counter.labels({...}).inc()`). 2 × 2 M increments, about a second in all.
 * Run: npx bun bench/core/metrics-labels.ts
 */
import { Registry } from "../../src/core/metrics/registry.ts";

const c = new Registry().counter("c_total", "c");
const N = 2_000_000;
for (let round = 1; round <= 2; round++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) c.inc({ route: "api", upstream: "app", status: 200 });
  const perCall = ((performance.now() - t) * 1e6) / N;
  const bound = c.labels({ route: "api", upstream: "app", status: 200 });
  t = performance.now();
  for (let i = 0; i < N; i++) bound.inc();
  const once = ((performance.now() - t) * 1e6) / N;
  console.log(`round ${round}: inc(labels) ${perCall.toFixed(0)} ns/op, labels().inc() ${once.toFixed(1)} ns/op, ratio ${(perCall / once).toFixed(0)}x`);
}
