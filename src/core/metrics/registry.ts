/**
 * Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
 * exposition format (0.0.4). One registry per process; worker processes report their own.
 *
 * Hot paths bind their labels once: `const ok = requests.labels({ route, status: 200 })` then
 * `ok.inc()` per event. `inc(labels)` builds a sorted, escaped label key on every call (about a
 * microsecond), which a proxy answering tens of thousands of requests a second notices.
 */
export type Labels = Record<string, string | number>;

/** A counter series with its labels bound. */
export interface BoundCounter {
  inc(by?: number): void;
  get(): number;
}

/** A gauge series with its labels bound. */
export interface BoundGauge {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
  get(): number;
}

/** A histogram series with its labels bound. */
export interface BoundHistogram {
  observe(value: number): void;
  count(): number;
}

function key(labels: Labels | undefined): string {
  if (!labels) return "";
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}

abstract class Metric {
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge" | "histogram") {}
  abstract render(): string[];
}

/** A series' value in a box: a bound series adds to it directly (no map lookup and store per event). */
interface Cell {
  v: number;
}

/** Counter and gauge values: one cell per label key, created on the first write. */
class Cells {
  readonly byKey = new Map<string, Cell>();
  cell(k: string): Cell {
    let c = this.byKey.get(k);
    if (!c) this.byKey.set(k, (c = { v: 0 }));
    return c;
  }
  get(k: string): number {
    return this.byKey.get(k)?.v ?? 0;
  }
  render(name: string): string[] {
    return [...this.byKey].map(([k, c]) => `${name}${k ? `{${k}}` : ""} ${c.v}`);
  }
}

export class Counter extends Metric {
  private values = new Cells();
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels?: Labels, by = 1): void {
    this.values.cell(key(labels)).v += by;
  }
  get(labels?: Labels): number {
    return this.values.get(key(labels));
  }
  /** The series for `labels`, its key computed once (the series appears on the first inc). */
  labels(labels: Labels): BoundCounter {
    const k = key(labels);
    const values = this.values;
    let c: Cell | undefined;
    return {
      inc: (by = 1) => void ((c ??= values.cell(k)).v += by),
      get: () => values.get(k),
    };
  }
  render(): string[] {
    return this.values.render(this.name);
  }
}

export class Gauge extends Metric {
  private values = new Cells();
  constructor(name: string, help: string) {
    super(name, help, "gauge");
  }
  set(value: number, labels?: Labels): void {
    this.values.cell(key(labels)).v = value;
  }
  inc(labels?: Labels, by = 1): void {
    this.values.cell(key(labels)).v += by;
  }
  dec(labels?: Labels, by = 1): void {
    this.inc(labels, -by);
  }
  get(labels?: Labels): number {
    return this.values.get(key(labels));
  }
  /** The series for `labels`, its key computed once (the series appears on the first write). */
  labels(labels: Labels): BoundGauge {
    const k = key(labels);
    const values = this.values;
    let c: Cell | undefined;
    return {
      set: (value) => void ((c ??= values.cell(k)).v = value),
      inc: (by = 1) => void ((c ??= values.cell(k)).v += by),
      dec: (by = 1) => void ((c ??= values.cell(k)).v -= by),
      get: () => values.get(k),
    };
  }
  render(): string[] {
    return this.values.render(this.name);
  }
}

export const DEFAULT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric {
  private series = new Map<string, Series>();
  constructor(name: string, help: string, readonly buckets = DEFAULT_BUCKETS) {
    super(name, help, "histogram");
  }
  observe(value: number, labels?: Labels): void {
    this.record(this.seriesFor(key(labels)), value);
  }
  count(labels?: Labels): number {
    return this.series.get(key(labels))?.count ?? 0;
  }
  /** The series for `labels`, its key computed once (the series appears on the first observe). */
  labels(labels: Labels): BoundHistogram {
    const k = key(labels);
    let s: Series | undefined;
    return {
      observe: (value) => this.record((s ??= this.seriesFor(k)), value),
      count: () => this.series.get(k)?.count ?? 0,
    };
  }
  private seriesFor(k: string): Series {
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }));
    return s;
  }
  private record(s: Series, value: number): void {
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : "";
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private metrics = new Map<string, Metric>();

  private get<T extends Metric>(name: string, make: () => T): T {
    const m = this.metrics.get(name);
    if (m) return m as T;
    const created = make();
    this.metrics.set(name, created);
    return created;
  }
  counter(name: string, help: string): Counter {
    return this.get(name, () => new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.get(name, () => new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets?: number[]): Histogram {
    return this.get(name, () => new Histogram(name, help, buckets));
  }
  /** Prometheus text exposition format. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.render());
    }
    return out.join("\n") + "\n";
  }
}

/** The process-wide registry every module records into. */
export const metrics = new Registry();
