export { Counter, Gauge, Histogram, Registry, metrics, DEFAULT_BUCKETS } from "./registry.ts";
export type { BoundCounter, BoundGauge, BoundHistogram, Labels } from "./registry.ts";
