// Prometheus text exposition (format 0.0.4) for the handful of metric kinds the
// server needs: counters, gauges and fixed-bucket histograms, with labels. Small
// enough to own rather than pull in a client library.

type Labels = Readonly<Record<string, string>>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

/** The series key of a label set; compute it once and reuse it on hot paths. */
export function labelKey(labels: Labels): string {
  return labelText(labels);
}

const keyOf = labelKey;

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    this.incKey(keyOf(labels), by);
  }

  /** As inc, with a key from labelKey(). */
  incKey(key: string, by = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels)) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.values) lines.push(`${this.name}${key} ${value}`);
    return lines.join('\n');
  }
}

/** A gauge read at scrape time from a function, so it is never stale. */
export class Gauge implements Metric {
  protected readonly type: 'gauge' | 'counter' = 'gauge';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, `${this.name} ${this.read()}`].join('\n');
  }
}

/** A counter kept elsewhere (it only grows) and read at scrape time: typed counter, so rate() works on it. */
export class CounterReading extends Gauge {
  protected override readonly type = 'counter';
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending. */
    readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    this.observeKey(value, keyOf(labels));
  }

  /** As observe, with a key from labelKey(). */
  observeKey(value: number, key: string): void {
    let s = this.series.get(key);
    if (s === undefined) {
      s = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.series) {
      const inner = key === '' ? '' : key.slice(1, -1) + ',';
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket{${inner}le="${le}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${inner}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${key} ${s.sum}`);
      lines.push(`${this.name}_count${key} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** Raw lines from another module (e.g. the WAL's own histograms), rendered as they are. */
export class RawMetrics implements Metric {
  constructor(private readonly read: () => string) {}
  render(): string {
    return this.read();
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return `${this.metrics
      .map((m) => m.render())
      .filter((text) => text !== '')
      .join('\n')}\n`;
  }
}

/** Latency buckets in seconds, 50 us to 10 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];
