// The core's in-memory view of the log: a snapshot point, the entries after it,
// and the watermarks that say what the host has persisted and applied. Like
// etcd's MemoryStorage + unstable rolled into one, so the core does no I/O.
import { assert } from '../util/assert.js';
import { type Entry, entryBytes } from './types.js';

export class RaftLog {
  /** Index and term of the last entry covered by the snapshot (0/0 when none). */
  snapshotIndex: number;
  snapshotTerm: number;
  /** entries[i].index === snapshotIndex + 1 + i. */
  private entries: Entry[];
  /** Highest index known committed. Never decreases. */
  committed: number;
  /** Highest index the host has applied (advanced past). */
  applied: number;
  /** Highest index handed to the host for applying (applied <= applying <= committed). */
  applying: number;
  /** Entries <= stable are durable on the host. */
  stable: number;
  /** Entries <= inProgress were handed to the host to persist (stable <= inProgress <= lastIndex). */
  inProgress: number;

  constructor(snapshotIndex: number, snapshotTerm: number, entries: readonly Entry[], committed: number, applied: number) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = entries.slice();
    for (let i = 0; i < this.entries.length; i++) {
      assert(this.entries[i].index === snapshotIndex + 1 + i, `log entries not contiguous at ${i}: ${this.entries[i].index}`);
      assert(i === 0 ? this.entries[i].term >= snapshotTerm : this.entries[i].term >= this.entries[i - 1].term, 'log terms must not decrease');
    }
    assert(committed >= snapshotIndex && committed <= this.lastIndex(), `commit ${committed} outside [${snapshotIndex}, ${this.lastIndex()}]`);
    assert(applied >= snapshotIndex && applied <= committed, `applied ${applied} outside [${snapshotIndex}, ${committed}]`);
    this.committed = committed;
    this.applied = applied;
    this.applying = applied;
    this.stable = this.lastIndex();
    this.inProgress = this.stable;
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length === 0 ? this.snapshotTerm : this.entries[this.entries.length - 1].term;
  }

  /** The term of the entry at index, or -1 when the index is compacted away or past the end. */
  term(index: number): number {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return -1;
    return this.entries[index - this.snapshotIndex - 1].term;
  }

  entry(index: number): Entry {
    assert(index > this.snapshotIndex && index <= this.lastIndex(), `entry ${index} not in log`);
    return this.entries[index - this.snapshotIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft's "at least as up-to-date" comparison (dissertation 3.6.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries [from, ...] bounded by a count and a byte budget (at least one entry
   * when any exists, so a large entry never stalls replication).
   */
  slice(from: number, maxEntries: number, maxBytes: number): Entry[] {
    assert(from > this.snapshotIndex, `slice from ${from} is compacted (snapshot ${this.snapshotIndex})`);
    const start = from - this.snapshotIndex - 1;
    const end = Math.min(this.entries.length, start + maxEntries);
    let bytes = 0;
    let i = start;
    for (; i < end; i++) {
      bytes += entryBytes(this.entries[i]);
      if (bytes > maxBytes && i > start) break;
    }
    return this.entries.slice(start, i);
  }

  /** Entries in (after, upTo], for handing to the host. */
  between(after: number, upTo: number): Entry[] {
    if (upTo <= after) return [];
    assert(after >= this.snapshotIndex, `entries after ${after} are compacted`);
    return this.entries.slice(after - this.snapshotIndex, upTo - this.snapshotIndex);
  }

  /** Appends entries created by this node as leader. */
  appendNew(entry: Entry): void {
    assert(entry.index === this.lastIndex() + 1, `append at ${entry.index} after last ${this.lastIndex()}`);
    assert(entry.term >= this.lastTerm(), `append term ${entry.term} below last term ${this.lastTerm()}`);
    this.entries.push(entry);
  }

  /**
   * Follower side of AppendEntries, after the (prevIndex, prevTerm) check passed:
   * skips entries already present, truncates at the first conflict, appends the
   * rest. Returns the index of the last new entry (prevIndex + entries.length).
   */
  maybeAppend(prevIndex: number, entries: readonly Entry[]): number {
    const lastNew = prevIndex + entries.length;
    let i = 0;
    for (; i < entries.length; i++) {
      const e = entries[i];
      if (e.index <= this.snapshotIndex) continue; // covered by our snapshot: committed, hence matching
      const t = this.term(e.index);
      if (t !== e.term) break;
    }
    if (i === entries.length) return lastNew;
    const first = entries[i].index;
    if (first <= this.lastIndex()) {
      assert(first > this.committed, `conflict at ${first} would truncate committed entries (commit ${this.committed})`);
      this.truncateFrom(first);
    }
    assert(first === this.lastIndex() + 1, `append gap: first ${first}, last ${this.lastIndex()}`);
    for (; i < entries.length; i++) this.entries.push(entries[i]);
    return lastNew;
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.snapshotIndex - 1;
    if (this.stable >= index) this.stable = index - 1;
    if (this.inProgress >= index) this.inProgress = index - 1;
  }

  /**
   * Fast log backtracking: the largest index <= index whose term is <= term
   * (etcd's findConflictByTerm). Returns [index, term of that index].
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapshotIndex; i--) {
      const t = this.term(i);
      if (t <= term) return [i, t];
    }
    return [this.snapshotIndex, this.snapshotTerm];
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Entries not yet handed to the host for persisting. */
  takeUnstable(): Entry[] {
    const out = this.between(this.inProgress, this.lastIndex());
    this.inProgress = this.lastIndex();
    return out;
  }

  hasUnstable(): boolean {
    return this.inProgress < this.lastIndex();
  }

  /** The host persisted everything handed out up to handedLast (unless truncated meanwhile). */
  stableTo(handedLast: number): void {
    const s = Math.min(handedLast, this.inProgress);
    if (s > this.stable) this.stable = s;
  }

  /** Committed entries the host may apply next (they are persisted before applying, in the same Ready). */
  nextCommitted(maxBytes: number): Entry[] {
    const upTo = Math.min(this.committed, this.lastIndex());
    if (upTo <= this.applying) return [];
    let end = this.applying;
    let bytes = 0;
    while (end < upTo) {
      bytes += entryBytes(this.entries[end - this.snapshotIndex]);
      if (bytes > maxBytes && end > this.applying) break;
      end++;
    }
    return this.between(this.applying, end);
  }

  hasNextCommitted(): boolean {
    return Math.min(this.committed, this.lastIndex()) > this.applying;
  }

  /** Drops entries <= index (they are covered by a snapshot the host took). */
  compact(index: number): void {
    if (index <= this.snapshotIndex) return;
    assert(index <= this.applied, `compact ${index} beyond applied ${this.applied}`);
    assert(index <= this.stable, `compact ${index} beyond stable ${this.stable}`);
    const term = this.term(index);
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  restore(index: number, term: number): void {
    assert(index > this.committed, `restore ${index} not beyond commit ${this.committed}`);
    this.entries = [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.committed = index;
    this.stable = index;
    this.inProgress = index;
  }
}
