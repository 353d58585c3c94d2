// One znode. A class with a fixed field set (one hidden class, no closures, no
// per-node Stat object: Stat is built on demand) because a million of them must
// fit in a few hundred bytes each. Measured on Node 20 (no pointer compression:
// 8 bytes a field) the choices below each save 30-300 bytes per node:
//   - data is kept as a one-byte ("latin1") string, one char per byte: 24 bytes of
//     overhead, against ~190 heap bytes plus a malloc'd backing store (about 500
//     bytes of RSS in all) for a small Uint8Array. Reads build a fresh Uint8Array
//     (so callers can never mutate the tree's copy).
//   - children are the children's full paths, the very string objects that key
//     the tree's Map, in a sorted array: 8 bytes a child and no name strings. All
//     children share the "parent/" prefix, so path order is name order. Past
//     SMALL_CHILDREN_MAX children the array becomes a chunked ChildList, so random
//     names stay cheap to insert.
//   - a leaf has `children === null`, not an empty array.
//   - the ephemeral owner and the TTL share one field (a node is never both).
//   - null data (ZooKeeper's null buffer) is the value null in the data field, apart
//     from '' (empty bytes): no flag, nothing extra for any other node.
import type { AclEntry, Acl } from './acl.js';
import { ChildList, SMALL_CHILDREN_MAX } from './children.js';
import { lowerBound, upperBound } from './sorted.js';
import { NodeKind, type NodeData, type SessionId, type Stat, type Zxid } from './types.js';

/** Node data as stored: a string whose char codes are the bytes (0..255), or null for null data. */
export type StoredData = string | null;
export const EMPTY_DATA: StoredData = '';

export function storeData(bytes: NodeData): StoredData {
  if (bytes === null) return null;
  if (bytes.length === 0) return EMPTY_DATA;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

/** A fresh copy (Buffer's latin1 decoder: measured faster than a JS loop even at 100 bytes); null stays null. */
export function loadData(data: StoredData): NodeData {
  return data === null ? null : Buffer.from(data, 'latin1');
}

/** Stat.dataLength: the byte count; 0 for null data (as ZooKeeper). */
export function dataLengthOf(data: StoredData): number {
  return data === null ? 0 : data.length;
}

export class Znode {
  /** Children's full paths, ascending: a sorted array, a ChildList when large (children.ts), null for a leaf. */
  children: string[] | ChildList | null = null;
  /** Children ever created under this node: the next sequential suffix (ZOOKEEPER-NOTES 1). */
  childCreates = 0;
  /** ephemeralOwner for an Ephemeral, ttlMs for a Ttl node, else 0. */
  private ownerOrTtl: number;

  constructor(
    public data: StoredData,
    public aclEntry: AclEntry,
    public czxid: Zxid,
    public mzxid: Zxid,
    public pzxid: Zxid,
    public ctime: number,
    public mtime: number,
    public version: number,
    public cversion: number,
    public aversion: number,
    ephemeralOwner: SessionId,
    public kind: NodeKind,
    ttlMs: number,
  ) {
    this.ownerOrTtl = kind === NodeKind.Ephemeral ? ephemeralOwner : kind === NodeKind.Ttl ? ttlMs : 0;
  }

  /** An independent copy (the child list too), for a snapshot view. */
  copy(): Znode {
    const c = new Znode(this.data, this.aclEntry, this.czxid, this.mzxid, this.pzxid, this.ctime, this.mtime, this.version, this.cversion, this.aversion, this.ephemeralOwner, this.kind, this.ttlMs);
    const children = this.children;
    c.children = children === null ? null : children instanceof ChildList ? children.copy() : children.slice();
    c.childCreates = this.childCreates;
    return c;
  }

  get ephemeralOwner(): SessionId {
    return this.kind === NodeKind.Ephemeral ? this.ownerOrTtl : 0;
  }

  get ttlMs(): number {
    return this.kind === NodeKind.Ttl ? this.ownerOrTtl : 0;
  }

  get numChildren(): number {
    const children = this.children;
    return children === null ? 0 : children instanceof ChildList ? children.size : children.length;
  }

  get acl(): readonly Acl[] {
    return this.aclEntry.list;
  }

  /** Inserts a child path not yet present, keeping order. Appends (sequential names) are O(1). */
  addChild(path: string): void {
    const children = this.children;
    if (children === null) {
      this.children = [path];
    } else if (children instanceof ChildList) {
      children.add(path);
    } else {
      if (children[children.length - 1] < path) children.push(path);
      else children.splice(lowerBound(children, path), 0, path);
      if (children.length > SMALL_CHILDREN_MAX) this.children = new ChildList(children);
    }
  }

  /** Removes a present child path. */
  removeChild(path: string): boolean {
    const children = this.children;
    if (children === null) return false;
    if (children instanceof ChildList) {
      if (!children.remove(path)) return false;
      // Back to a plain array well below the threshold (hysteresis: no flapping).
      if (children.size <= SMALL_CHILDREN_MAX / 2) this.children = children.toArray();
      return true;
    }
    const at = lowerBound(children, path);
    if (at >= children.length || children[at] !== path) return false;
    if (children.length === 1) this.children = null;
    else children.splice(at, 1);
    return true;
  }

  /** All child paths, ascending. The node's own array when it has one: do not mutate it. */
  childPaths(): readonly string[] {
    const children = this.children;
    if (children === null) return EMPTY_PATHS;
    return children instanceof ChildList ? children.toArray() : children;
  }

  /** Up to `limit` child paths after `afterPath` (from the first if undefined), and whether more follow. */
  childPage(afterPath: string | undefined, limit: number): { paths: string[]; more: boolean } {
    const children = this.children;
    if (children === null) return { paths: [], more: false };
    if (children instanceof ChildList) return children.page(afterPath, limit);
    const start = afterPath === undefined ? 0 : upperBound(children, afterPath);
    const end = Math.min(children.length, start + limit);
    return { paths: children.slice(start, end), more: end < children.length };
  }
}

const EMPTY_PATHS: readonly string[] = Object.freeze([]);

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
    dataLength: dataLengthOf(node.data),
    numChildren: node.numChildren,
  };
}
