// The points bench/scale measures: a base configuration, and for each dimension
// the values it takes, one dimension at a time (everything else stays at the base).
// Pure: no I/O, so the test can check it.

export type Dimension = 'sessions' | 'inflight' | 'valueBytes' | 'treeZnodes' | 'watches' | 'servers';
export const DIMENSIONS: readonly Dimension[] = ['sessions', 'inflight', 'valueBytes', 'treeZnodes', 'watches', 'servers'];

/** One measured configuration: W1 (setData on each session's own node) through zook's ZooKeeper port. */
export interface PointConfig {
  readonly servers: number;
  readonly sessions: number;
  /** Requests each session keeps outstanding. */
  readonly inflight: number;
  readonly valueBytes: number;
  /** Znodes prefilled before measuring (besides the sessions' own nodes). */
  readonly treeZnodes: number;
  /** Data watches held by other sessions on other nodes. */
  readonly watches: number;
}

export const BASE: PointConfig = { servers: 3, sessions: 32, inflight: 1, valueBytes: 100, treeZnodes: 1000, watches: 0 };

export const DEFAULT_POINTS: Record<Dimension, readonly number[]> = {
  sessions: [1, 8, 32, 128, 1024],
  inflight: [1, 8, 64],
  valueBytes: [100, 4096, 102_400],
  treeZnodes: [1000, 100_000, 1_000_000],
  watches: [0, 100_000],
  servers: [1, 3, 5],
};

/** `--quick`: tiny sizes for a smoke run (minutes, not tens of minutes). */
export const QUICK_POINTS: Record<Dimension, readonly number[]> = {
  sessions: [1, 8, 32],
  inflight: [1, 8],
  valueBytes: [100, 4096],
  treeZnodes: [1000, 10_000],
  watches: [0, 10_000],
  servers: [1, 3],
};

export const DEFAULT_RESTART_POINTS: readonly number[] = [1000, 100_000, 1_000_000];
export const QUICK_RESTART_POINTS: readonly number[] = [1000, 10_000];

/** How each dimension is labelled and drawn. */
export const DIMENSION_INFO: Record<Dimension, { readonly title: string; readonly axis: string; readonly log: boolean }> = {
  sessions: { title: 'Sessions', axis: 'sessions', log: true },
  inflight: { title: 'Requests in flight per session', axis: 'in flight per session', log: true },
  valueBytes: { title: 'Value size', axis: 'value bytes', log: true },
  treeZnodes: { title: 'Znodes in the tree', axis: 'znodes', log: true },
  watches: { title: 'Data watches held by other sessions', axis: 'watches', log: false },
  servers: { title: 'Ensemble size', axis: 'servers', log: false },
};

export interface PlannedPoint {
  readonly dimension: Dimension;
  readonly value: number;
  readonly config: PointConfig;
}

/**
 * Every point of the chosen dimensions, in order. The watches dimension prefills as
 * many extra znodes as the largest watch count for every one of its points (the
 * watched nodes), so its points differ only in the watches.
 */
export function planPoints(dimensions: readonly Dimension[], points: Partial<Record<Dimension, readonly number[]>>, base: PointConfig = BASE): PlannedPoint[] {
  const out: PlannedPoint[] = [];
  for (const dimension of dimensions) {
    const values = points[dimension] ?? DEFAULT_POINTS[dimension];
    for (const value of values) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`${dimension}: ${value} is not a count`);
      if (value === 0 && dimension !== 'watches') throw new Error(`${dimension}: 0 is not a point`);
      out.push({ dimension, value, config: { ...base, [dimension]: value } });
    }
  }
  return out;
}

/** Nodes the watches dimension creates to watch (the same for all its points). */
export function watchedNodes(dimensionValues: readonly number[]): number {
  return Math.max(0, ...dimensionValues);
}

/** A point's value as the tables and axes show it: 1k, 100k, 1M; 100 B, 4 KiB. */
export function formatValue(dimension: Dimension, value: number): string {
  if (dimension === 'valueBytes') return value >= 1024 * 1024 ? `${value / (1024 * 1024)} MiB` : value >= 1024 ? `${+(value / 1024).toFixed(1)} KiB` : `${value} B`;
  if (value >= 1_000_000 && value % 100_000 === 0) return `${value / 1_000_000}M`;
  if (value >= 1000 && value % 100 === 0) return `${value / 1000}k`;
  return String(value);
}

/** "1,8,32" -> [1, 8, 32]; accepts 1k / 100k / 1M / 4KiB / 100KiB. */
export function parseList(text: string): number[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const m = /^(\d+(?:\.\d+)?)(k|m|kib|mib)?$/i.exec(t);
      if (m === null) throw new Error(`not a count: ${t}`);
      const unit = (m[2] ?? '').toLowerCase();
      const factor = unit === 'k' ? 1000 : unit === 'm' ? 1_000_000 : unit === 'kib' ? 1024 : unit === 'mib' ? 1024 * 1024 : 1;
      return Math.round(Number(m[1]) * factor);
    });
}
