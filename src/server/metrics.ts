// Prometheus metrics through prom-client, the standard client for Node: its
// registry renders /metrics, and `mntr` reads the same registry (no second copy of
// any number). Two kinds of metric live here:
// - prom-client's own Counter, Gauge and Histogram, for what the server counts as
//   it happens (disconnects, proposal-to-commit, peer round trips, snapshots), except
//   the replies themselves: RequestStats counts those in typed arrays (hot path);
// - ReadMetric, for values another module already keeps (the node's counters, the
//   Raft status, the peer links, the WAL's power-of-two histograms): read at scrape
//   time, so never stale and never counted twice. A counter read this way is still
//   TYPE counter, so rate() works on it.
import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { Log2Histogram } from '../storage/index.js';

export type Labels = Readonly<Record<string, string>>;

/** One series: its labels (none: {}) and value. */
export interface Reading {
  readonly labels: Labels;
  readonly value: number;
  /** For a histogram's series: name_bucket, name_sum or name_count. */
  readonly metricName?: string;
}

/**
 * A metric family whose series are read from elsewhere when scraped. It has the
 * shape prom-client's Registry reads (name, help, type, get()), so it renders and
 * answers getSingleMetric(name).get() like prom-client's own metrics.
 */
export class ReadMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
    private readonly read: () => readonly Reading[],
  ) {}

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Reading[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.read()] });
  }

  /** Registry.resetMetrics() calls this; the values are someone else's to reset. */
  reset(): void {}
}

/** One unlabelled value. */
export const single = (value: number): Reading[] => [{ labels: {}, value }];

/** Registers a ReadMetric (prom-client's registerMetric is typed for its own classes; it reads only what ReadMetric has). */
export function registerRead(registry: Registry, metric: ReadMetric): ReadMetric {
  registry.registerMetric(metric as unknown as Metric);
  return metric;
}

/**
 * The series of a WAL power-of-two histogram as a Prometheus histogram, bounds
 * scaled (microseconds to seconds, say). Buckets past the largest value seen are left
 * out (they would all repeat the count); +Inf always closes the family.
 */
export function log2HistogramReadings(name: string, h: Log2Histogram, scale: number): Reading[] {
  const out: Reading[] = [];
  const bucket = `${name}_bucket`;
  for (const [upper, count] of h.cumulative()) {
    if (upper === Infinity) break;
    if (count === h.count && upper > h.max * 2) break; // trailing empty buckets
    out.push({ metricName: bucket, labels: { le: String(upper * scale) }, value: count });
  }
  out.push({ metricName: bucket, labels: { le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels: {}, value: h.sum * scale });
  out.push({ metricName: `${name}_count`, labels: {}, value: h.count });
  return out;
}

let processRegistry: Registry | null = null;

/**
 * prom-client's default process and runtime metrics (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_open_fds, nodejs_eventloop_lag_seconds,
 * nodejs_gc_duration_seconds, nodejs_heap_*, ...), in one registry per process.
 * collectDefaultMetrics starts an event-loop delay monitor and a GC observer on
 * every call and has no way to stop them, so it is called once, here: several
 * servers in one process (the tests) share these families instead of each leaking a
 * set when it closes. They describe the process, which is what they would share anyway.
 */
export function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Gauges that prom-client names *_total (active handles, requests and resources
    // now, summed over their types): a *_total family must be a counter for rate() to
    // mean anything. The same numbers stay by type in nodejs_active_handles, ..._requests, ..._resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

/** The value of a family's series, summed (0 when the family has none), read through the registry. */
export async function metricValue(registry: Registry, name: string, metricName: string = name): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const family = await metric.get();
  let sum = 0;
  for (const v of family.values as readonly Reading[]) if ((v.metricName ?? name) === metricName) sum += v.value;
  return sum;
}

/** One operation's requests: counts by error code, and a latency histogram (non-cumulative buckets). */
class OpSeries {
  readonly buckets: Float64Array;
  count = 0;
  sum = 0;
  readonly byError = new Map<number, number>();
  constructor(bucketCount: number) {
    this.buckets = new Float64Array(bucketCount);
  }
}

/**
 * Requests answered, by operation: counts by error code and latency, kept in typed
 * arrays and read at scrape time. This is the reply hot path (once per reply, 100k+ a
 * second): it allocates nothing and costs about 15 ns a reply, where prom-client's
 * Counter and Histogram children cost about 370 ns (they build a label hash string
 * per call).
 */
export class RequestStats {
  private readonly ops = new Map<string, OpSeries>();
  /** Shortest and longest latency since start, seconds (mntr's zk_min_latency, zk_max_latency). */
  minSeconds = Infinity;
  maxSeconds = 0;

  constructor(private readonly bounds: readonly number[]) {}

  answered(op: string, error: number, seconds: number): void {
    let s = this.ops.get(op);
    if (s === undefined) this.ops.set(op, (s = new OpSeries(this.bounds.length)));
    s.count++;
    s.sum += seconds;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]) {
        s.buckets[i]++;
        break;
      }
    }
    s.byError.set(error, (s.byError.get(error) ?? 0) + 1);
    if (seconds < this.minSeconds) this.minSeconds = seconds;
    if (seconds > this.maxSeconds) this.maxSeconds = seconds;
  }

  /** The counter's series: one per operation and error code. */
  counts(): Reading[] {
    const out: Reading[] = [];
    for (const [op, s] of this.ops) for (const [error, n] of s.byError) out.push({ labels: { op, error: String(error) }, value: n });
    return out;
  }

  /** The histogram's series (cumulative buckets, +Inf, sum, count), by operation. */
  latency(name: string): Reading[] {
    const out: Reading[] = [];
    for (const [op, s] of this.ops) {
      let seen = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        seen += s.buckets[i];
        out.push({ metricName: `${name}_bucket`, labels: { op, le: String(this.bounds[i]) }, value: seen });
      }
      out.push({ metricName: `${name}_bucket`, labels: { op, le: '+Inf' }, value: s.count });
      out.push({ metricName: `${name}_sum`, labels: { op }, value: s.sum });
      out.push({ metricName: `${name}_count`, labels: { op }, value: s.count });
    }
    return out;
  }
}

/** Latency buckets in seconds, 50 us to 10 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/** Snapshot build and install times in seconds, 1 ms to 5 min. */
export const SNAPSHOT_BUCKETS_SECONDS: readonly number[] = [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
