// In-memory "disk" for one simulated node: holds only what the host persisted,
// so a crash loses everything else.
import { assert } from '../../src/util/assert.js';
import type { Entry, HardState, PersistedState, Snapshot } from '../../src/consensus/index.js';

export class MemoryStorage {
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  snapshot: Snapshot | null = null;
  /** Contiguous entries after the snapshot. */
  entries: Entry[] = [];

  constructor(initial?: PersistedState) {
    if (initial !== undefined) {
      this.hardState = initial.hardState;
      this.snapshot = initial.snapshot;
      this.entries = initial.entries.slice();
    }
  }

  private firstIndex(): number {
    return (this.snapshot?.meta.index ?? 0) + 1;
  }

  lastIndex(): number {
    return this.firstIndex() - 1 + this.entries.length;
  }

  /** A snapshot received from the leader replaces the whole log. */
  installSnapshot(s: Snapshot): void {
    this.snapshot = s;
    this.entries = [];
  }

  /** A snapshot this node took: entries it covers are dropped. */
  saveOwnSnapshot(s: Snapshot): void {
    if (this.snapshot !== null && this.snapshot.meta.index >= s.meta.index) return;
    const drop = s.meta.index - (this.firstIndex() - 1);
    this.entries = drop >= this.entries.length ? [] : this.entries.slice(Math.max(0, drop));
    this.snapshot = s;
  }

  /** Persisted entries at index >= entries[0].index are replaced. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    const firstIndex = this.firstIndex();
    assert(first <= this.lastIndex() + 1, `storage gap: appending ${first} after ${this.lastIndex()}`);
    let skip = 0;
    if (first < firstIndex) skip = firstIndex - first; // already covered by our snapshot
    if (skip >= entries.length) return;
    const at = entries[skip].index - firstIndex;
    this.entries.length = at;
    for (let i = skip; i < entries.length; i++) this.entries.push(entries[i]);
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  load(): PersistedState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries.slice() };
  }
}
