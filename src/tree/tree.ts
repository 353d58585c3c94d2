// The replicated state: znodes by path, sessions, shared ACL lists, the digest
// and the zxid the tree is at. Only primitives live here (add a node, remove a
// node, set data, set ACL, sessions); the ZooKeeper rules that decide whether a
// primitive may run live in checks.ts, prepare.ts and apply.ts.
import { assert } from '../util/assert.js';
import { AclTable, OPEN_ACL_UNSAFE, type Acl, type AclEntry } from './acl.js';
import { addHash, contentHash, fieldsHash, nodeHash, sessionHash, subtractHash } from './digest.js';
import type { NodeView } from './checks.js';
import { treeOptions, type TreeOptions } from './options.js';
import { ROOT, parentOf } from './paths.js';
import { ROOT_CVERSION, SYSTEM_NODES } from './system.js';
import { NodeKind, type NodeData, type SessionId, type Zxid } from './types.js';
import { EMPTY_DATA, Znode, storeData } from './znode.js';

export interface SessionState {
  readonly timeoutMs: number;
  /** Paths of this session's ephemerals. */
  readonly ephemerals: Set<string>;
}

/**
 * A snapshot in progress sees the tree as it was when it began. Nodes are changed
 * in place, so before the first change of a node (or of its child list) after
 * that moment, the tree saves a copy here; the writer reads a path's copy if there
 * is one, the live node otherwise. Applies never wait for a snapshot, and a
 * snapshot costs one copy per node changed while it runs.
 */
export interface SnapshotView {
  readonly saved: Map<string, Znode>;
}

export class DataTree implements NodeView {
  readonly options: TreeOptions;
  /** Every node by full path, the root included. */
  readonly nodes = new Map<string, Znode>();
  readonly sessions = new Map<SessionId, SessionState>();
  readonly acls = new AclTable();
  /** Container and TTL nodes, so findExpired never scans the whole tree. */
  readonly containers = new Set<string>();
  readonly ttlNodes = new Set<string>();
  /** The zxid of the last applied txn (0 for a new tree). */
  lastZxid: Zxid = 0;
  private digestValue = 0n;
  /** The snapshot being written, if any: see beginSnapshot. */
  private snapshot: SnapshotView | null = null;

  /**
   * A new tree: the root and ZooKeeper's system nodes (system.ts), the same on
   * every replica, all at zxid 0 and time 0, and in the digest like any node.
   */
  constructor(options: Partial<TreeOptions> = {}) {
    this.options = treeOptions(options);
    const root = new Znode(EMPTY_DATA, this.acls.acquire(OPEN_ACL_UNSAFE), 0, 0, 0, 0, 0, 0, ROOT_CVERSION, 0, 0, NodeKind.Persistent, 0);
    this.nodes.set(ROOT, root);
    for (const system of SYSTEM_NODES) {
      const node = new Znode(EMPTY_DATA, this.acls.acquire(system.acl), 0, 0, 0, 0, 0, 0, system.cversion, system.aversion, 0, NodeKind.Persistent, 0);
      this.nodes.get(parentOf(system.path))!.addChild(system.path);
      this.nodes.set(system.path, node);
    }
    // A node's hash does not cover its child list, so hashing after linking is the same as before.
    let d = 0n;
    for (const [path, node] of this.nodes) d = addHash(d, nodeHash(path, node));
    this.digestValue = d;
  }

  /** The digest of all nodes and sessions: equal trees have equal digests. */
  get digest(): bigint {
    return this.digestValue;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  get(path: string): Znode | undefined {
    return this.nodes.get(path);
  }

  /** NodeView (checks.ts): the tree itself is the view the rules read. */
  lookup(path: string): Znode | undefined {
    return this.nodes.get(path);
  }

  hasSession(sessionId: SessionId): boolean {
    return this.sessions.has(sessionId);
  }

  // -------------------------------------------------------------------------
  // Primitives. Callers have checked every rule; these assert the invariants.
  // (`if (bad) assert(false, `...`)`: the message is only built on failure; these run per write.)

  addNode(
    path: string,
    data: NodeData,
    acl: readonly Acl[],
    kind: NodeKind,
    ephemeralOwner: SessionId,
    ttlMs: number,
    zxid: Zxid,
    timeMs: number,
  ): Znode {
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (parent === undefined) assert(false, `addNode ${path}: parent missing`);
    if (this.snapshot !== null) this.preserve(parentPath, parent);
    const parentBefore = fieldsHash(parentPath, parent);
    parent.addChild(path);
    parent.cversion++;
    parent.childCreates++;
    parent.pzxid = zxid;
    const node = new Znode(storeData(data), this.acls.acquire(acl), zxid, zxid, zxid, timeMs, timeMs, 0, 0, 0, ephemeralOwner, kind, ttlMs);
    const before = this.nodes.size;
    this.nodes.set(path, node);
    // The path was free (checked by the caller): the map grew. Costs no extra lookup.
    if (this.nodes.size !== before + 1) assert(false, `addNode ${path}: exists`);
    if (kind === NodeKind.Ephemeral) {
      const session = this.sessions.get(ephemeralOwner);
      if (session === undefined) assert(false, `addNode ${path}: owner session ${ephemeralOwner} missing`);
      session.ephemerals.add(path);
    } else if (kind === NodeKind.Container) {
      this.containers.add(path);
    } else if (kind === NodeKind.Ttl) {
      this.ttlNodes.add(path);
    }
    let d = subtractHash(this.digestValue, parentBefore);
    d = addHash(d, fieldsHash(parentPath, parent));
    this.digestValue = addHash(d, nodeHash(path, node));
    return node;
  }

  removeNode(path: string, zxid: Zxid): void {
    assert(path !== ROOT, 'removeNode: the root');
    const node = this.nodes.get(path);
    if (node === undefined) assert(false, `removeNode ${path}: missing`);
    if (node.children !== null) assert(false, `removeNode ${path}: has children`);
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (parent === undefined) assert(false, `removeNode ${path}: parent missing`);
    if (this.snapshot !== null) {
      this.preserve(path, node);
      this.preserve(parentPath, parent);
    }
    let d = subtractHash(this.digestValue, nodeHash(path, node));
    d = subtractHash(d, fieldsHash(parentPath, parent));
    if (!parent.removeChild(path)) assert(false, `removeNode ${path}: not in parent's children`);
    parent.cversion++;
    // ZooKeeper keeps pzxid monotonic: a delete never lowers it.
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    this.digestValue = addHash(d, fieldsHash(parentPath, parent));
    this.nodes.delete(path);
    this.acls.release(node.aclEntry);
    if (node.kind === NodeKind.Ephemeral) {
      this.sessions.get(node.ephemeralOwner)?.ephemerals.delete(path);
    } else if (node.kind === NodeKind.Container) {
      this.containers.delete(path);
    } else if (node.kind === NodeKind.Ttl) {
      this.ttlNodes.delete(path);
    }
  }

  setNodeData(path: string, node: Znode, data: NodeData, zxid: Zxid, timeMs: number): void {
    if (this.snapshot !== null) this.preserve(path, node);
    let d = subtractHash(this.digestValue, fieldsHash(path, node));
    d = subtractHash(d, contentHash(path, node.data));
    const stored = storeData(data);
    node.data = stored;
    node.version++;
    node.mzxid = zxid;
    node.mtime = timeMs;
    d = addHash(d, fieldsHash(path, node));
    this.digestValue = addHash(d, contentHash(path, stored));
  }

  setNodeAcl(path: string, node: Znode, acl: readonly Acl[]): void {
    if (this.snapshot !== null) this.preserve(path, node);
    const d = subtractHash(this.digestValue, fieldsHash(path, node));
    const old: AclEntry = node.aclEntry;
    node.aclEntry = this.acls.acquire(acl);
    this.acls.release(old);
    node.aversion++;
    this.digestValue = addHash(d, fieldsHash(path, node));
  }

  addSession(sessionId: SessionId, timeoutMs: number): void {
    if (this.sessions.has(sessionId)) assert(false, `addSession ${sessionId}: exists`);
    this.sessions.set(sessionId, { timeoutMs, ephemerals: new Set() });
    this.digestValue = addHash(this.digestValue, sessionHash(sessionId, timeoutMs));
  }

  removeSession(sessionId: SessionId): void {
    const session = this.sessions.get(sessionId);
    if (!(session !== undefined && session.ephemerals.size === 0)) assert(false, `removeSession ${sessionId}: missing or still owns ephemerals`);
    this.sessions.delete(sessionId);
    this.digestValue = subtractHash(this.digestValue, sessionHash(sessionId, session.timeoutMs));
  }

  // -------------------------------------------------------------------------
  // Snapshots while applying (see SnapshotView).

  /** Starts a snapshot view of the tree as it is now; a newer one replaces (and so cancels) an older one. */
  beginSnapshot(): SnapshotView {
    const view: SnapshotView = { saved: new Map() };
    this.snapshot = view;
    return view;
  }

  endSnapshot(view: SnapshotView): void {
    if (this.snapshot === view) this.snapshot = null;
  }

  /** Whether a snapshot view is open (a writeSnapshot's chunks not all pulled yet); a new one would cancel it. */
  get snapshotInProgress(): boolean {
    return this.snapshot !== null;
  }

  isCurrentSnapshot(view: SnapshotView): boolean {
    return this.snapshot === view;
  }

  /** A path's node as the snapshot `view` sees it (undefined if it did not exist then and does not now). */
  nodeForSnapshot(view: SnapshotView, path: string): Znode | undefined {
    return view.saved.get(path) ?? this.nodes.get(path);
  }

  private preserve(path: string, node: Znode): void {
    const saved = this.snapshot!.saved;
    if (!saved.has(path)) saved.set(path, node.copy());
  }

  /** Used by the snapshot loader only: a node exactly as it was, parent before child. */
  restoreNode(path: string, node: Znode, parent: Znode | null): void {
    // The loader has looked both up already (it must answer bad input with an error, not an assert).
    if (path !== ROOT) {
      if (parent === null) assert(false, `restoreNode ${path}: parent missing (snapshot order is parent first)`);
      parent.addChild(path);
    }
    this.nodes.set(path, node);
    if (node.kind === NodeKind.Ephemeral) {
      const session = this.sessions.get(node.ephemeralOwner);
      if (session === undefined) assert(false, `restoreNode ${path}: owner session missing`);
      session.ephemerals.add(path);
    } else if (node.kind === NodeKind.Container) this.containers.add(path);
    else if (node.kind === NodeKind.Ttl) this.ttlNodes.add(path);
    this.digestValue = addHash(this.digestValue, nodeHash(path, node));
  }

  /**
   * Used by the snapshot loader: starts from nothing, not even a root or the system
   * nodes (a snapshot holds them like any other node, so loading restores them).
   */
  clearForRestore(): void {
    assert(this.nodes.size === SYSTEM_NODES.length + 1 && this.lastZxid === 0 && this.sessions.size === 0, 'clearForRestore: the tree is not new');
    for (const node of this.nodes.values()) this.acls.release(node.aclEntry);
    this.nodes.clear();
    this.digestValue = 0n;
  }

  /** Recomputes the digest from scratch; tests compare it with the incremental one. */
  recomputeDigest(): bigint {
    let d = 0n;
    for (const [path, node] of this.nodes) d = addHash(d, nodeHash(path, node));
    for (const [id, s] of this.sessions) d = addHash(d, sessionHash(id, s.timeoutMs));
    return d;
  }
}
