// The simulated network: per-direction links that partitions cut, and a lossy
// channel that drops, duplicates, delays and (through random delays) reorders.
import type { SeededRandom } from '../../src/util/random.js';

export interface NetworkFaults {
  /** Probability a message is lost. */
  dropRate: number;
  /** Probability a message is delivered twice. */
  duplicateRate: number;
  /** Delivery delay in time units: uniform in [minDelay, maxDelay]... */
  minDelay: number;
  maxDelay: number;
  /** ...except with this probability, when it is uniform in [maxDelay, longDelay] (reordering). */
  longDelayRate: number;
  longDelay: number;
}

export class Network {
  /** Directed links that are cut: "from>to". */
  private readonly cut = new Set<string>();
  delivered = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly rng: SeededRandom,
    public faults: NetworkFaults,
  ) {}

  linkUp(from: number, to: number): boolean {
    return this.cut.size === 0 || !this.cut.has(`${from}>${to}`);
  }

  cutLink(from: number, to: number): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Both directions between every node in a and every node in b. */
  separate(a: readonly number[], b: readonly number[]): void {
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  describeCuts(): string {
    return this.cut.size === 0 ? 'none' : [...this.cut].sort().join(' ');
  }

  /** Delivery delays for one send: [] when dropped, two entries when duplicated. */
  delays(): number[] {
    const f = this.faults;
    if (this.rng.next() < f.dropRate) {
      this.dropped++;
      return [];
    }
    if (this.rng.next() < f.duplicateRate) {
      this.duplicated++;
      return [this.delay(), this.delay()];
    }
    return [this.delay()];
  }

  private delay(): number {
    const f = this.faults;
    return this.rng.next() < f.longDelayRate ? this.rng.between(f.maxDelay, f.longDelay) : this.rng.between(f.minDelay, f.maxDelay);
  }
}
