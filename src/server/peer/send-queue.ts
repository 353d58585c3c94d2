// One bounded FIFO of encoded frames per peer, so a slow or absent peer costs a
// fixed amount of memory. Raft tolerates lost messages (it retries from its own
// state), so when the queue is full the oldest droppable frame goes first. Snapshot
// chunks are not droppable: losing one stalls an InstallSnapshot stream until a
// timeout, and they are few and paced by the leader anyway.
//
// Two lanes: urgent frames (heartbeats, votes, acknowledgements: small, and what
// keeps a leader a leader) leave before bulk ones (appends, snapshot chunks,
// forwarded writes), so a burst of big writes or a snapshot on its way never
// holds them back. Raft copes with reordering between
// messages; each lane stays FIFO, so forwarded writes keep their order.
import { assert } from '../../util/assert.js';

export interface QueuedFrame {
  readonly bytes: Uint8Array;
  readonly droppable: boolean;
  /** Leaves before every bulk frame queued (default: bulk). */
  readonly urgent?: boolean;
}

export interface SendQueueLimits {
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
}

export class SendQueue {
  private urgent: QueuedFrame[] = [];
  private bulk: QueuedFrame[] = [];
  private queuedBytes = 0;

  constructor(private readonly limits: SendQueueLimits) {
    assert(limits.maxQueuedMessages >= 1 && limits.maxQueuedBytes >= 1, () => `bad send queue limits ${JSON.stringify(limits)}`);
  }

  get length(): number {
    return this.urgent.length + this.bulk.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /**
   * Appends a frame, evicting the oldest droppable frames (bulk ones first) until it
   * fits. Returns how many frames were dropped (evicted ones, plus the new one itself
   * when it cannot fit).
   */
  push(frame: QueuedFrame): number {
    const size = frame.bytes.length;
    if (size > this.limits.maxQueuedBytes) return 1;
    let dropped = 0;
    while (this.length >= this.limits.maxQueuedMessages || this.queuedBytes + size > this.limits.maxQueuedBytes) {
      if (!this.evictOne()) return dropped + 1;
      dropped++;
    }
    (frame.urgent === true ? this.urgent : this.bulk).push(frame);
    this.queuedBytes += size;
    return dropped;
  }

  /** Evicts droppable frames, oldest first, until at most `maxFrames` are queued; returns how many went. */
  trimTo(maxFrames: number): number {
    let dropped = 0;
    while (this.length > maxFrames && this.evictOne()) dropped++;
    return dropped;
  }

  private evictOne(): boolean {
    for (const lane of [this.bulk, this.urgent]) {
      const victim = lane.findIndex((f) => f.droppable);
      if (victim < 0) continue;
      const [gone] = lane.splice(victim, 1);
      this.queuedBytes -= gone!.bytes.length;
      return true;
    }
    return false;
  }

  peek(): QueuedFrame | undefined {
    return this.urgent[0] ?? this.bulk[0];
  }

  shift(): QueuedFrame | undefined {
    const frame = this.urgent.length > 0 ? this.urgent.shift() : this.bulk.shift();
    if (frame !== undefined) this.queuedBytes -= frame.bytes.length;
    assert(this.queuedBytes >= 0, () => `queued bytes went negative: ${this.queuedBytes}`);
    return frame;
  }

  clear(): void {
    this.urgent = [];
    this.bulk = [];
    this.queuedBytes = 0;
  }
}
