export { Counter, Gauge, Histogram, Registry, metrics, DEFAULT_BUCKETS } from "./registry.ts";
