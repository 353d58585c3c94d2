// Pending ReadIndex requests on the leader (etcd's readOnly, ReadOnlySafe mode):
// each waits for a heartbeat round acknowledged by a quorum before it is answered.
import { assert } from '../util/assert.js';

export interface ReadRequest {
  /** The commit index when the request arrived: the read is served at or after it. */
  readonly index: number;
  /** Who asked: the leader itself (its id) or a follower. */
  readonly from: number;
  readonly context: Uint8Array;
  readonly key: string;
  readonly acks: Set<number>;
}

export function contextKey(context: Uint8Array): string {
  let s = '';
  for (let i = 0; i < context.length; i++) s += String.fromCharCode(context[i]);
  return s;
}

export class ReadOnlyQueue {
  private readonly pending = new Map<string, ReadRequest>();
  private queue: ReadRequest[] = [];

  size(): number {
    return this.queue.length;
  }

  has(context: Uint8Array): boolean {
    return this.pending.has(contextKey(context));
  }

  /** Adds a request unless one with the same context is pending (a duplicate). */
  add(index: number, from: number, context: Uint8Array): boolean {
    const key = contextKey(context);
    if (this.pending.has(key)) return false;
    const req: ReadRequest = { index, from, context, key, acks: new Set() };
    this.pending.set(key, req);
    this.queue.push(req);
    return true;
  }

  /** Records a heartbeat acknowledgement; returns the acks for that context, or null if unknown. */
  ack(from: number, context: Uint8Array): ReadonlySet<number> | null {
    const req = this.pending.get(contextKey(context));
    if (req === undefined) return null;
    req.acks.add(from);
    return req.acks;
  }

  /** Removes and returns every request up to and including the one with this context (they are all confirmed). */
  release(context: Uint8Array): ReadRequest[] {
    const key = contextKey(context);
    const at = this.queue.findIndex((r) => r.key === key);
    assert(at >= 0, 'released an unknown read request');
    const out = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    for (const r of out) this.pending.delete(r.key);
    return out;
  }

  lastContext(): Uint8Array | null {
    return this.queue.length === 0 ? null : this.queue[this.queue.length - 1].context;
  }

  clear(): void {
    this.pending.clear();
    this.queue = [];
  }
}
