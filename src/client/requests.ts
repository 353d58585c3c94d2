// Requests between a call and its reply: a FIFO of calls waiting to be sent
// (while disconnected, or while maxInFlight are out) and the table of sent ones
// by xid. Both are bounded. A call that timed out or was aborted after it was
// sent stays in the table until its reply (or the connection) goes, so that the
// in-flight count keeps matching what the server is working on.
import type { ClientRequest, ServerFrame } from '../protocol/types.js';
import { assert } from '../util/assert.js';

export type ReplyFrame = Extract<ServerFrame, { kind: 'reply' }>;
export type EventFrame = Extract<ServerFrame, { kind: 'event' }>;

export interface PendingRequest {
  readonly request: ClientRequest;
  readonly linearizable: boolean;
  /** User calls count against maxInFlight; the client's own pings and setWatches do not. */
  readonly counted: boolean;
  /** Runs synchronously as the reply is processed, before any later frame (registers watches). Skipped once settled. */
  readonly onReply: ((reply: ReplyFrame) => void) | undefined;
  /** Runs for each watch event the server replays for this request (addWatch fromZxid), before its reply. */
  readonly onEvent?: ((event: EventFrame) => void) | undefined;
  readonly resolve: (reply: ReplyFrame) => void;
  readonly reject: (error: unknown) => void;
  /** Set when sent; 0 while queued. */
  xid: number;
  /** The caller has its answer (reply, error, timeout or abort). */
  settled: boolean;
  /** Clears the call's timer and abort listener. */
  cleanup: () => void;
}

export class RequestTable {
  private queue: (PendingRequest | undefined)[] = [];
  private head = 0;
  private queuedLive = 0;
  private readonly sent = new Map<number, PendingRequest>();
  private countedSent = 0;

  constructor(
    readonly maxInFlight: number,
    readonly maxQueuedRequests: number,
  ) {
    assert(maxInFlight >= 1, 'maxInFlight must be at least 1');
  }

  get inFlight(): number {
    return this.countedSent;
  }

  get queued(): number {
    return this.queuedLive;
  }

  /** Adds a call to the send queue; false when the queue is full. */
  enqueue(p: PendingRequest): boolean {
    if (this.queuedLive >= this.maxQueuedRequests) return false;
    this.queue.push(p);
    this.queuedLive++;
    return true;
  }

  /** Takes the next queued call if one may be sent now (in-flight below the limit). */
  takeSendable(): PendingRequest | undefined {
    while (this.head < this.queue.length) {
      const p = this.queue[this.head];
      if (p !== undefined && !p.settled && p.counted && this.countedSent >= this.maxInFlight) return undefined;
      this.queue[this.head++] = undefined;
      this.compact();
      if (p === undefined || p.settled) continue;
      this.queuedLive--;
      return p;
    }
    return undefined;
  }

  /** Records a call as sent under `xid`. */
  markSent(p: PendingRequest, xid: number): void {
    p.xid = xid;
    this.sent.set(xid, p);
    if (p.counted) this.countedSent++;
  }

  /** The sent call under `xid`, left in the table. */
  sentCall(xid: number): PendingRequest | undefined {
    return this.sent.get(xid);
  }

  hasXid(xid: number): boolean {
    return this.sent.has(xid);
  }

  /** Removes and returns the sent call a reply answers. */
  complete(xid: number): PendingRequest | undefined {
    const p = this.sent.get(xid);
    if (p === undefined) return undefined;
    this.sent.delete(xid);
    if (p.counted) this.countedSent--;
    return p;
  }

  /** A queued call that was settled (timeout, abort) before it was sent no longer counts as queued. */
  dropQueued(p: PendingRequest): void {
    if (p.xid === 0) this.queuedLive--;
  }

  /** Every sent call, removed: the connection that carried them is gone. */
  takeAllSent(): PendingRequest[] {
    const out = [...this.sent.values()];
    this.sent.clear();
    this.countedSent = 0;
    return out;
  }

  /** Every queued call, removed. */
  takeAllQueued(): PendingRequest[] {
    const out: PendingRequest[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i];
      if (p !== undefined && !p.settled) out.push(p);
    }
    this.queue = [];
    this.head = 0;
    this.queuedLive = 0;
    return out;
  }

  private compact(): void {
    // Drop the consumed prefix now and then, so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
