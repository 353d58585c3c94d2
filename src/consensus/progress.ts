// The leader's view of one follower: how far its log matches, what to send next,
// and the flow control that bounds what is in flight (etcd's Progress + Inflights).
import { assert } from '../util/assert.js';

export const ProgressState = {
  /** Unknown match: one Append at a time until the follower accepts one. */
  Probe: 0,
  /** Known match: Appends are pipelined, bounded by Inflights. */
  Replicate: 1,
  /** The follower needs a snapshot; InstallSnapshot chunks are being sent. */
  Snapshot: 2,
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/** Appends sent but not acknowledged, bounded by a message count and a byte budget. */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytesInFlight = 0;

  constructor(
    readonly maxMsgs: number,
    readonly maxBytes: number,
  ) {
    assert(maxMsgs >= 1 && maxBytes >= 1, 'inflight limits must be positive');
  }

  count(): number {
    return this.lastIndexes.length - this.head;
  }

  bytes(): number {
    return this.bytesInFlight;
  }

  full(): boolean {
    return this.count() >= this.maxMsgs || this.bytesInFlight >= this.maxBytes;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights overflow');
    const n = this.count();
    assert(n === 0 || this.lastIndexes[this.lastIndexes.length - 1] < lastIndex, 'inflight indexes must increase');
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytesInFlight += bytes;
  }

  /** Frees every message whose last index is <= index (acknowledged). */
  freeLE(index: number): void {
    while (this.head < this.lastIndexes.length && this.lastIndexes[this.head] <= index) {
      this.bytesInFlight -= this.sizes[this.head];
      this.head++;
    }
    this.compactIfNeeded();
  }

  freeFirstOne(): void {
    if (this.count() === 0) return;
    this.bytesInFlight -= this.sizes[this.head];
    this.head++;
    this.compactIfNeeded();
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.bytesInFlight = 0;
  }

  private compactIfNeeded(): void {
    if (this.head === this.lastIndexes.length) {
      this.reset();
    } else if (this.head > 64 && this.head * 2 > this.lastIndexes.length) {
      this.lastIndexes.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }
}

export class Progress {
  /** Highest index known to match the leader's log (persisted on the follower). */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** Probe: an Append is out; wait for its reply or the next heartbeat reply. */
  probeSent = false;
  /** Snapshot: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Snapshot: bytes of it the follower confirmed. */
  snapshotOffset = 0;
  /**
   * Snapshot: a chunk left since the last heartbeat went out. A heartbeat reply resends
   * the chunk (it may have been lost) only when none did: stale heartbeats queued while
   * the link was down come back as a burst of replies, and each resent a whole chunk.
   */
  snapshotChunkSentThisBeat = false;
  /** Highest commit index this follower was told (by an Append or a Commit) since its state last changed. */
  commitSent = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    public isLearner: boolean,
    maxInflightMsgs: number,
    maxInflightBytes: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.snapshotOffset = 0;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotOffset = 0;
    this.snapshotChunkSentThisBeat = false;
    this.commitSent = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** The follower acknowledged index. Returns whether match moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Replicate: entries up to lastIndex were sent (optimistically advance next). */
  sentEntries(lastIndex: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex, bytes);
    } else {
      assert(this.state === ProgressState.Probe, 'entries sent in snapshot state');
      this.probeSent = true;
    }
  }

  /**
   * The follower rejected an Append at `rejected`; matchHint is where its log
   * may match (from the conflict hint). Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
