// The last minutes of the charts: one point per scrape of /metrics (request rate,
// latency percentiles, fsync time) and per /ensemble poll (follower lag). Pure: the
// numbers come from differences of two scrapes, as Prometheus' rate() would.
import { histogram, histogramDelta, parsePrometheus, quantile, total, type Histogram } from './prometheus.js';

/** How far back the charts go. */
export const HISTORY_SECONDS = 300;

export interface Series {
  readonly name: string;
  readonly values: readonly (number | null)[];
}

export interface MetricsPoint {
  /** Seconds since the epoch (uPlot's time axis). */
  readonly t: number;
  readonly requestsPerSecond: number | null;
  readonly latencyMs: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null };
  readonly fsyncMs: { readonly mean: number | null; readonly p99: number | null };
}

interface Scrape {
  readonly t: number;
  readonly requests: number | null;
  readonly latency: Histogram | null;
  readonly fsync: Histogram | null;
}

export function scrapeOf(text: string, t: number): Scrape {
  const samples = parsePrometheus(text);
  return {
    t,
    requests: total(samples, 'zook_requests_total'),
    latency: histogram(samples, 'zook_request_duration_seconds'),
    fsync: histogram(samples, 'zook_wal_fsync_duration_seconds'),
  };
}

const ms = (seconds: number | null): number | null => (seconds === null ? null : seconds * 1000);

/** The point between two scrapes (null fields where a counter went back: the server restarted). */
export function pointBetween(a: Scrape, b: Scrape): MetricsPoint {
  const dt = b.t - a.t;
  const rate = a.requests !== null && b.requests !== null && b.requests >= a.requests && dt > 0 ? (b.requests - a.requests) / dt : null;
  const lat = a.latency !== null && b.latency !== null ? histogramDelta(a.latency, b.latency) : null;
  const fs = a.fsync !== null && b.fsync !== null ? histogramDelta(a.fsync, b.fsync) : null;
  return {
    t: b.t,
    requestsPerSecond: rate,
    latencyMs: { p50: lat && ms(quantile(lat, 0.5)), p90: lat && ms(quantile(lat, 0.9)), p99: lat && ms(quantile(lat, 0.99)) },
    fsyncMs: { mean: fs !== null && fs.count > 0 ? (fs.sum / fs.count) * 1000 : null, p99: fs && ms(quantile(fs, 0.99)) },
  };
}

/** Keeps the last HISTORY_SECONDS of points. */
export function trimmed<T extends { readonly t: number }>(points: readonly T[], nowSeconds: number): T[] {
  return points.filter((p) => p.t >= nowSeconds - HISTORY_SECONDS);
}

export interface LagPoint {
  readonly t: number;
  /** Entries behind the leader, by follower id. */
  readonly lag: Readonly<Record<number, number>>;
}

/** Lag series aligned on the lag points' times, one per follower ever seen. */
export function lagSeries(points: readonly LagPoint[]): Series[] {
  const ids = [...new Set(points.flatMap((p) => Object.keys(p.lag).map(Number)))].sort((a, b) => a - b);
  return ids.map((id) => ({ name: `server ${id}`, values: points.map((p) => p.lag[id] ?? null) }));
}
