// Reading Prometheus text (GET /metrics) in the console: samples by name and labels,
// and quantiles of a histogram over an interval (the difference of two scrapes), as
// PromQL's histogram_quantile does over rate(..._bucket). No DOM here: unit-tested in Node.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line of an exposition (comments and blank lines skipped, malformed lines ignored). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) for (const l of m[2].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

/** The sum of every sample named `name` (all label sets), or null when there is none. */
export function total(samples: readonly Sample[], name: string): number | null {
  let sum = 0;
  let found = false;
  for (const s of samples) {
    if (s.name !== name) continue;
    sum += s.value;
    found = true;
  }
  return found ? sum : null;
}

/** A histogram summed over its label sets: cumulative counts by upper bound (ascending, +Inf last), sum and count. */
export interface Histogram {
  readonly buckets: ReadonlyArray<readonly [le: number, count: number]>;
  readonly sum: number;
  readonly count: number;
}

export function histogram(samples: readonly Sample[], name: string): Histogram | null {
  const byLe = new Map<number, number>();
  let sum = 0;
  let count = 0;
  let found = false;
  for (const s of samples) {
    if (s.name === `${name}_bucket`) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
      found = true;
    } else if (s.name === `${name}_sum`) sum += s.value;
    else if (s.name === `${name}_count`) count += s.value;
  }
  if (!found) return null;
  return { buckets: [...byLe.entries()].sort((a, b) => a[0] - b[0]), sum, count };
}

/** What happened between two scrapes of the same histogram (null if it was reset: a restart). */
export function histogramDelta(before: Histogram, after: Histogram): Histogram | null {
  if (after.count < before.count) return null;
  const prior = new Map(before.buckets);
  return {
    buckets: after.buckets.map(([le, c]) => [le, c - (prior.get(le) ?? 0)] as const),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/**
 * The q-quantile (0..1) of a histogram's observations, by linear interpolation inside
 * the bucket it falls in (histogram_quantile's rule); null with no observations. A
 * quantile in the +Inf bucket is the largest finite bound.
 */
export function quantile(h: Histogram, q: number): number | null {
  const n = h.buckets.length === 0 ? 0 : h.buckets[h.buckets.length - 1][1];
  if (n <= 0) return null;
  const rank = q * n;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const [le, count] of h.buckets) {
    if (count >= rank) {
      if (le === Infinity) return lowerLe;
      if (count === lowerCount) return le;
      return lowerLe + ((le - lowerLe) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerLe = le;
    lowerCount = count;
  }
  return lowerLe;
}
