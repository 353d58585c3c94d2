// Counters the WAL keeps about itself; the server exposes them (Prometheus) later.
// Histograms use power-of-two buckets: fixed memory, no allocation per sample.

const BUCKETS = 40;

/** A histogram over non-negative values with buckets [0,1], (1,2], (2,4], ... (2^38, inf). */
export class Log2Histogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  max = 0;

  record(value: number): void {
    const v = Math.max(0, value);
    const bucket = v <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log2(v)));
    this.counts[bucket]++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** Upper bound of the bucket holding the q-quantile (0..1): accurate to a factor of 2. */
  quantileUpperBound(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= rank) return Math.min(2 ** b, this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Cumulative buckets as [upperBound, count] pairs, the shape Prometheus wants. */
  cumulative(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      out.push([b === BUCKETS - 1 ? Infinity : 2 ** b, seen]);
    }
    return out;
  }
}

export class WalMetrics {
  /** fdatasync latency of each batch, microseconds. */
  readonly fsyncMicros = new Log2Histogram();
  readonly recordsPerBatch = new Log2Histogram();
  readonly bytesPerBatch = new Log2Histogram();
  /** Records waiting for a batch (queued or held back by backpressure), now and at most. */
  queuedRecords = 0;
  maxQueuedRecords = 0;
  /** Appends that had to wait because the queue was at its bound. */
  backpressureWaits = 0;
  fsyncs = 0;
  recordsWritten = 0;
  bytesWritten = 0;
  segmentsCreated = 0;
  /** Times the log stalled on a disk error (ENOSPC, EIO, ...), and the retries that took. */
  stalls = 0;
  stallRetries = 0;

  queueChanged(queuedRecords: number): void {
    this.queuedRecords = queuedRecords;
    if (queuedRecords > this.maxQueuedRecords) this.maxQueuedRecords = queuedRecords;
  }

  batchWritten(records: number, bytes: number, fsyncMicros: number): void {
    this.fsyncs++;
    this.recordsWritten += records;
    this.bytesWritten += bytes;
    this.recordsPerBatch.record(records);
    this.bytesPerBatch.record(bytes);
    this.fsyncMicros.record(fsyncMicros);
  }
}
