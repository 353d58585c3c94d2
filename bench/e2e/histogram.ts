// Latency histogram with ~2% relative buckets from 10 us to 100 s: fixed memory,
// mergeable across worker processes, enough for p50/p99.
const MIN_US = 10;
const GROWTH = 1.02;
export const BUCKETS = Math.ceil(Math.log(100e6 / MIN_US) / Math.log(GROWTH)) + 1;

export class LatencyHistogram {
  readonly counts: number[];
  count = 0;

  constructor(counts?: readonly number[]) {
    this.counts = counts === undefined ? new Array<number>(BUCKETS).fill(0) : [...counts];
    this.count = this.counts.reduce((a, b) => a + b, 0);
  }

  recordMs(ms: number): void {
    const us = Math.max(MIN_US, ms * 1000);
    const bucket = Math.min(BUCKETS - 1, Math.floor(Math.log(us / MIN_US) / Math.log(GROWTH)));
    this.counts[bucket]++;
    this.count++;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
  }

  /** The q-quantile in ms (upper edge of its bucket). */
  quantileMs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return (MIN_US * GROWTH ** (i + 1)) / 1000;
    }
    return (MIN_US * GROWTH ** BUCKETS) / 1000;
  }
}
