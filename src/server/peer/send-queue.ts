// One bounded FIFO of encoded frames per peer, so a slow or absent peer costs a
// fixed amount of memory. Raft tolerates lost messages (it retries from its own
// state), so when the queue is full the oldest droppable frame goes first. Snapshot
// chunks are not droppable: losing one stalls an InstallSnapshot stream until a
// timeout, and they are few and paced by the leader anyway.
import { assert } from '../../util/assert.js';

export interface QueuedFrame {
  readonly bytes: Uint8Array;
  readonly droppable: boolean;
}

export interface SendQueueLimits {
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
}

export class SendQueue {
  private frames: QueuedFrame[] = [];
  private queuedBytes = 0;

  constructor(private readonly limits: SendQueueLimits) {
    assert(limits.maxQueuedMessages >= 1 && limits.maxQueuedBytes >= 1, () => `bad send queue limits ${JSON.stringify(limits)}`);
  }

  get length(): number {
    return this.frames.length;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  /**
   * Appends a frame, evicting the oldest droppable frames until it fits. Returns how
   * many frames were dropped (evicted ones, plus the new one itself when it cannot fit).
   */
  push(frame: QueuedFrame): number {
    const size = frame.bytes.length;
    if (size > this.limits.maxQueuedBytes) return 1;
    let dropped = 0;
    while (this.frames.length >= this.limits.maxQueuedMessages || this.queuedBytes + size > this.limits.maxQueuedBytes) {
      const victim = this.frames.findIndex((f) => f.droppable);
      if (victim < 0) return dropped + 1;
      const [gone] = this.frames.splice(victim, 1);
      this.queuedBytes -= gone!.bytes.length;
      dropped++;
    }
    this.frames.push(frame);
    this.queuedBytes += size;
    return dropped;
  }

  /** Evicts droppable frames, oldest first, until at most `maxFrames` are queued; returns how many went. */
  trimTo(maxFrames: number): number {
    let dropped = 0;
    while (this.frames.length > maxFrames) {
      const victim = this.frames.findIndex((f) => f.droppable);
      if (victim < 0) break;
      const [gone] = this.frames.splice(victim, 1);
      this.queuedBytes -= gone!.bytes.length;
      dropped++;
    }
    return dropped;
  }

  peek(): QueuedFrame | undefined {
    return this.frames[0];
  }

  shift(): QueuedFrame | undefined {
    const frame = this.frames.shift();
    if (frame !== undefined) this.queuedBytes -= frame.bytes.length;
    assert(this.queuedBytes >= 0, () => `queued bytes went negative: ${this.queuedBytes}`);
    return frame;
  }

  clear(): void {
    this.frames = [];
    this.queuedBytes = 0;
  }
}
