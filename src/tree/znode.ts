// One znode. A class with a fixed field set (one hidden class, no closures, no
// per-node Stat object: Stat is built on demand) because a million of them must fit
// in a few hundred bytes each.
import type { AclEntry, Acl } from './acl.js';
import type { NodeKind, SessionId, Stat, Zxid } from './types.js';

export const EMPTY_DATA: Uint8Array = new Uint8Array(0);

export class Znode {
  /** Child names in ascending code-unit order (for paged listing and canonical snapshots); null for a leaf, to save an array per node. */
  children: string[] | null = null;
  /** Children ever created under this node: the next sequential suffix (ZOOKEEPER-NOTES 1). */
  childCreates = 0;

  constructor(
    /** Shared and never mutated in place: readers get this same array without a copy. */
    public data: Uint8Array,
    public aclEntry: AclEntry,
    public czxid: Zxid,
    public mzxid: Zxid,
    public pzxid: Zxid,
    public ctime: number,
    public mtime: number,
    public version: number,
    public cversion: number,
    public aversion: number,
    public ephemeralOwner: SessionId,
    public kind: NodeKind,
    /** TTL of a Ttl node, ms; 0 otherwise. */
    public ttlMs: number,
  ) {}

  get numChildren(): number {
    return this.children === null ? 0 : this.children.length;
  }

  get acl(): readonly Acl[] {
    return this.aclEntry.list;
  }

  /** Inserts a name not yet present, keeping order. Appends (sequential names) are O(1). */
  addChild(name: string): void {
    const children = this.children;
    if (children === null) {
      this.children = [name];
      return;
    }
    const n = children.length;
    if (children[n - 1] < name) {
      children.push(name);
      return;
    }
    const at = lowerBound(children, name);
    children.splice(at, 0, name);
  }

  /** Removes a present name. */
  removeChild(name: string): boolean {
    const children = this.children;
    if (children === null) return false;
    const at = lowerBound(children, name);
    if (at >= children.length || children[at] !== name) return false;
    if (children.length === 1) this.children = null;
    else children.splice(at, 1);
    return true;
  }
}

/** First index whose name is >= `name`. */
export function lowerBound(sorted: readonly string[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose name is > `name`. */
export function upperBound(sorted: readonly string[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function statOf(node: Znode): Stat {
  return {
    czxid: node.czxid,
    mzxid: node.mzxid,
    pzxid: node.pzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    cversion: node.cversion,
    aversion: node.aversion,
    ephemeralOwner: node.ephemeralOwner,
    dataLength: node.data.length,
    numChildren: node.children === null ? 0 : node.children.length,
  };
}
