// The change history: what the most recently applied txns changed (a node created,
// deleted, or its data changed), each with its zxid and the ACLs that govern who
// may see the event. Like the watch registry it is per-server state, filled as the
// tree applies the log (the entries replayed at start-up included), and bounded
// (maxChanges, maxBytes: the oldest whole txns go first).
//
// Why: a client that reconnects hands back its watches with the last zxid it saw,
// and a watch may be added "from zxid Z". Every event those watches would have
// delivered after Z is computed by feeding the changes after Z, in order, through a
// scratch WatchRegistry holding only those watches: the same trigger rules as live
// events, so replayed and live events cannot disagree. Where the history does not
// reach back to Z (evicted, or the server started or installed a snapshot after Z),
// covers(Z) is false and the caller says so (a Compacted event).
import type { AclEntry } from './acl.js';
import type { Zxid } from './types.js';
import type { WatchEvent, WatchRegistry } from './watches.js';

export const ChangeKind = { Created: 1, Deleted: 2, DataChanged: 3 } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

export interface ChangeHistoryLimits {
  /** Most changes held. */
  readonly maxChanges: number;
  /** Most bytes held, counted as CHANGE_OVERHEAD_BYTES plus the path's length per change. */
  readonly maxBytes: number;
}

/** Bytes counted per change besides its path: five array slots and the string header. */
export const CHANGE_OVERHEAD_BYTES = 64;

/** Dropped slots at the front are compacted away once there are this many (and they are half the arrays). */
const COMPACT_AFTER_SLOTS = 4096;

export class ChangeHistory {
  // Parallel arrays, one slot per change (no object per change on the apply path).
  private zxids: Zxid[] = [];
  private kinds: ChangeKind[] = [];
  private paths: string[] = [];
  private acls: AclEntry[] = [];
  /** The parent's ACL (for NodeChildrenChanged); the node's own for data changes (unused). */
  private parentAcls: AclEntry[] = [];
  private head = 0;
  private heldBytes = 0;
  /** Every change with a zxid above this one is held. */
  private coveredFrom: Zxid;
  /** Changes dropped to stay within the limits, since start. */
  evicted = 0;

  constructor(
    readonly limits: ChangeHistoryLimits,
    /** The tree's zxid when the history starts: nothing before it is known. */
    startZxid: Zxid,
  ) {
    if (!(Number.isInteger(limits.maxChanges) && limits.maxChanges >= 0)) throw new RangeError(`maxChanges must be an integer >= 0, got ${limits.maxChanges}`);
    if (!(Number.isInteger(limits.maxBytes) && limits.maxBytes >= 0)) throw new RangeError(`maxBytes must be an integer >= 0, got ${limits.maxBytes}`);
    this.coveredFrom = startZxid;
  }

  /** Changes held. */
  get size(): number {
    return this.zxids.length - this.head;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** The oldest zxid a replay can start from: every change after it is held. */
  get oldestReplayableZxid(): Zxid {
    return this.coveredFrom;
  }

  /** True if every change after `zxid` is held (a replay from it misses nothing). */
  covers(zxid: Zxid): boolean {
    return zxid >= this.coveredFrom;
  }

  /** Called by the watch registry's triggers, in apply order (zxids never decrease). */
  record(kind: ChangeKind, path: string, zxid: Zxid, acl: AclEntry, parentAcl: AclEntry): void {
    const last = this.zxids.length > this.head ? this.zxids[this.zxids.length - 1] : this.coveredFrom;
    if (zxid < last) throw new Error(`change history: zxid ${zxid} recorded after ${last}`);
    this.zxids.push(zxid);
    this.kinds.push(kind);
    this.paths.push(path);
    this.acls.push(acl);
    this.parentAcls.push(parentAcl);
    this.heldBytes += CHANGE_OVERHEAD_BYTES + path.length;
    this.evictBeyondLimits(zxid);
  }

  /** The tree was replaced (a snapshot from the leader): nothing before `zxid` is known any more. */
  reset(zxid: Zxid): void {
    this.evicted += this.size;
    this.zxids = [];
    this.kinds = [];
    this.paths = [];
    this.acls = [];
    this.parentAcls = [];
    this.head = 0;
    this.heldBytes = 0;
    this.coveredFrom = zxid;
  }

  /**
   * Feeds every change after `fromZxid`, in order, to `registry`'s triggers; the
   * events they fire are appended to `out`. The caller checks covers(fromZxid) first.
   */
  replay(fromZxid: Zxid, registry: WatchRegistry, out: WatchEvent[]): void {
    for (let i = this.firstAfter(fromZxid); i < this.zxids.length; i++) {
      const zxid = this.zxids[i];
      const path = this.paths[i];
      switch (this.kinds[i]) {
        case ChangeKind.Created:
          registry.nodeCreated(path, zxid, this.acls[i], this.parentAcls[i], out);
          break;
        case ChangeKind.Deleted:
          registry.nodeDeleted(path, zxid, this.acls[i], this.parentAcls[i], out);
          break;
        case ChangeKind.DataChanged:
          registry.dataChanged(path, zxid, this.acls[i], out);
          break;
      }
    }
  }

  /** Index of the first held change with a zxid above `zxid` (binary search: zxids never decrease). */
  private firstAfter(zxid: Zxid): number {
    let lo = this.head;
    let hi = this.zxids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.zxids[mid] <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops the oldest whole txns until within the limits (never the txn just recorded unless it alone is too big). */
  private evictBeyondLimits(newest: Zxid): void {
    while (this.size > this.limits.maxChanges || this.heldBytes > this.limits.maxBytes) {
      // A txn's changes go together: a replay from inside one would miss its first changes.
      const zxid = this.zxids[this.head];
      while (this.head < this.zxids.length && this.zxids[this.head] === zxid) {
        this.heldBytes -= CHANGE_OVERHEAD_BYTES + this.paths[this.head].length;
        // Let go of the strings and ACL entries now; the slots are compacted later.
        this.paths[this.head] = '';
        this.head++;
        this.evicted++;
      }
      this.coveredFrom = zxid;
      if (zxid === newest) break;
    }
    if (this.head >= COMPACT_AFTER_SLOTS && this.head * 2 >= this.zxids.length) {
      this.zxids = this.zxids.slice(this.head);
      this.kinds = this.kinds.slice(this.head);
      this.paths = this.paths.slice(this.head);
      this.acls = this.acls.slice(this.head);
      this.parentAcls = this.parentAcls.slice(this.head);
      this.head = 0;
    }
  }
}
