// The watch registry: per-server state (watches belong to the sessions connected
// to this server), kept apart from the replicated tree. apply tells it what
// changed; it answers with the events to deliver, in order, following
// ZooKeeper's WatchManager:
//   - one-shot data watches (getData, exists) and child watches (getChildren) are
//     removed when they fire;
//   - persistent watches (addWatch PERSISTENT) act as a data and a child watch that stay;
//   - persistent-recursive watches fire for data events on the path and every
//     descendant, but never NodeChildrenChanged; stored once, found by walking up
//     the changed path's ancestors (so there is no copy per descendant);
//   - a watcher gets one event per change even if several of its watches match;
//   - every event carries the ACL that governs who may see it (CVE-2024-23944,
//     ZooKeeper 3.8.4 / 3.9.2): the server delivers it only to a watcher whose
//     session may READ under that ACL (`entryAllows(event.acl, Perm.Read, ...)`).
//     As in ZooKeeper's DataTree: NodeCreated / NodeDataChanged carry the node's
//     ACL, NodeDeleted the deleted node's ACL as it was (also for the deleted
//     node's own child watches), NodeChildrenChanged the parent's. The registry
//     consumes a one-shot watch whether or not the event is then delivered:
//     ZooKeeper's WatchManager.triggerWatch removes STANDARD watches from its table
//     before calling ServerCnxn.process(event, acl), which drops the event on
//     NoAuth; the watch is gone either way.
//
// Memory: a path with one watcher (the common case) stores the watcher id as a
// plain number, not a Set; the reverse index (watcher -> paths, for session close)
// shares the path strings. About 100 bytes per watch plus the path.
import type { AclEntry } from './acl.js';
import { ChangeKind, type ChangeHistory } from './history.js';
import type { SessionId, Zxid } from './types.js';
import { ROOT, parentOf } from './paths.js';

export const EventType = {
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** ZooKeeper's WatcherType for removeWatches, plus the two persistent kinds (3.6+). */
export const WatcherType = {
  Children: 1,
  Data: 2,
  Any: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;
export type WatcherType = (typeof WatcherType)[keyof typeof WatcherType];

export const AddWatchMode = {
  Persistent: 0,
  PersistentRecursive: 1,
} as const;
export type AddWatchMode = (typeof AddWatchMode)[keyof typeof AddWatchMode];

/** Who watches: the session id of the connection (the server routes by it). */
export type WatcherId = SessionId;

export interface WatchEvent {
  readonly watcher: WatcherId;
  /** The path that changed (for a recursive watch, the descendant, as ZooKeeper reports it). */
  readonly path: string;
  readonly type: EventType;
  readonly zxid: Zxid;
  /**
   * The ACL that decides delivery (READ needed): the node's own for data events,
   * the deleted node's as it was for NodeDeleted, the parent's for NodeChildrenChanged.
   * A shared interned entry, captured at apply time (no copy).
   */
  readonly acl: AclEntry;
}

/** One watcher (a number) or several. */
type Watchers = WatcherId | Set<WatcherId>;

const KIND_DATA = 0;
const KIND_CHILD = 1;
const KIND_PERSISTENT = 2;
const KIND_RECURSIVE = 3;
type Kind = 0 | 1 | 2 | 3;

export class WatchRegistry {
  private readonly tables: [Map<string, Watchers>, Map<string, Watchers>, Map<string, Watchers>, Map<string, Watchers>] = [
    new Map(),
    new Map(),
    new Map(),
    new Map(),
  ];
  /** watcher -> its paths per kind, for removing everything of a closed session. */
  private readonly byWatcher = new Map<WatcherId, [Set<string> | null, Set<string> | null, Set<string> | null, Set<string> | null]>();
  /** Scratch set for one change's dedup, reused (apply is single-threaded). */
  private readonly fired = new Set<WatcherId>();

  /**
   * `history`: where the triggers record every change, so that watches re-registered
   * later can be replayed what they missed (history.ts). The server's registry has
   * one; the scratch registries a replay runs through do not.
   */
  constructor(private readonly history: ChangeHistory | null = null) {}

  addDataWatch(path: string, watcher: WatcherId): void {
    this.add(KIND_DATA, path, watcher);
  }

  addChildWatch(path: string, watcher: WatcherId): void {
    this.add(KIND_CHILD, path, watcher);
  }

  addPersistentWatch(path: string, watcher: WatcherId, mode: AddWatchMode): void {
    this.add(mode === AddWatchMode.Persistent ? KIND_PERSISTENT : KIND_RECURSIVE, path, watcher);
  }

  /** removeWatches: true if something was removed (else the server answers NoWatcher). */
  removeWatches(path: string, watcher: WatcherId, type: WatcherType): boolean {
    let removed = false;
    if (type === WatcherType.Data || type === WatcherType.Any) removed = this.remove(KIND_DATA, path, watcher) || removed;
    if (type === WatcherType.Children || type === WatcherType.Any) removed = this.remove(KIND_CHILD, path, watcher) || removed;
    if (type === WatcherType.Persistent || type === WatcherType.Any) removed = this.remove(KIND_PERSISTENT, path, watcher) || removed;
    if (type === WatcherType.PersistentRecursive || type === WatcherType.Any) removed = this.remove(KIND_RECURSIVE, path, watcher) || removed;
    return removed;
  }

  /** Drops every watch of a watcher (its session closed or moved away). */
  removeWatcher(watcher: WatcherId): void {
    const paths = this.byWatcher.get(watcher);
    if (paths === undefined) return;
    this.byWatcher.delete(watcher);
    for (let kind = 0 as Kind; kind < 4; kind++) {
      const set = paths[kind];
      if (set === null) continue;
      for (const path of set) this.detach(this.tables[kind], path, watcher);
    }
  }

  /** Moves every watch of `watcher` into `to` (after a replay: what did not fire goes live). */
  moveWatcher(watcher: WatcherId, to: WatchRegistry): void {
    const paths = this.byWatcher.get(watcher);
    if (paths === undefined) return;
    for (let kind = 0 as Kind; kind < 4; kind++) for (const path of paths[kind] ?? []) to.add(kind, path, watcher);
    this.removeWatcher(watcher);
  }

  /** Number of (kind, path, watcher) registrations. */
  get size(): number {
    let n = 0;
    for (const table of this.tables) for (const w of table.values()) n += typeof w === 'number' ? 1 : w.size;
    return n;
  }

  /** Sessions with at least one watch, and distinct watched paths (ZooKeeper's `wchs`). */
  get watcherCount(): number {
    return this.byWatcher.size;
  }

  get pathCount(): number {
    const paths = new Set<string>();
    for (const table of this.tables) for (const path of table.keys()) paths.add(path);
    return paths.size;
  }

  /** checkWatches: whether this watcher has a watch of `type` (Any: of any kind) on `path`. */
  hasWatch(path: string, watcher: WatcherId, type: WatcherType): boolean {
    const kinds: Kind[] =
      type === WatcherType.Data ? [KIND_DATA] : type === WatcherType.Children ? [KIND_CHILD] : type === WatcherType.Persistent ? [KIND_PERSISTENT] : type === WatcherType.PersistentRecursive ? [KIND_RECURSIVE] : [0, 1, 2, 3];
    return kinds.some((k) => contains(this.tables[k].get(path), watcher));
  }

  // -------------------------------------------------------------------------
  // Triggers, called by apply in the order the changes happen.

  // `acl`: the changed node's ACL entry; `parentAcl`: its parent's (see WatchEvent.acl).

  nodeCreated(path: string, zxid: Zxid, acl: AclEntry, parentAcl: AclEntry, out: WatchEvent[]): void {
    this.history?.record(ChangeKind.Created, path, zxid, acl, parentAcl);
    this.fired.clear();
    this.triggerData(path, EventType.NodeCreated, zxid, acl, out);
    this.childrenChanged(parentOf(path), zxid, parentAcl, out);
  }

  /** `acl`: the deleted node's entry as it was before removal. */
  nodeDeleted(path: string, zxid: Zxid, acl: AclEntry, parentAcl: AclEntry, out: WatchEvent[]): void {
    this.history?.record(ChangeKind.Deleted, path, zxid, acl, parentAcl);
    this.fired.clear();
    this.triggerData(path, EventType.NodeDeleted, zxid, acl, out);
    // ZooKeeper also fires the deleted node's child watches with NodeDeleted,
    // suppressing watchers that already got it from the data table.
    this.triggerChild(path, EventType.NodeDeleted, zxid, acl, out);
    this.childrenChanged(parentOf(path), zxid, parentAcl, out);
  }

  dataChanged(path: string, zxid: Zxid, acl: AclEntry, out: WatchEvent[]): void {
    this.history?.record(ChangeKind.DataChanged, path, zxid, acl, acl);
    this.fired.clear();
    this.triggerData(path, EventType.NodeDataChanged, zxid, acl, out);
  }

  private childrenChanged(parent: string, zxid: Zxid, acl: AclEntry, out: WatchEvent[]): void {
    this.fired.clear();
    this.triggerChild(parent, EventType.NodeChildrenChanged, zxid, acl, out);
  }

  private triggerData(path: string, type: EventType, zxid: Zxid, acl: AclEntry, out: WatchEvent[]): void {
    this.fireOneShot(KIND_DATA, path, type, zxid, acl, out);
    this.fireKeep(this.tables[KIND_PERSISTENT].get(path), path, type, zxid, acl, out);
    const recursive = this.tables[KIND_RECURSIVE];
    if (recursive.size === 0) return;
    for (let p = path; ; p = parentOf(p)) {
      this.fireKeep(recursive.get(p), path, type, zxid, acl, out);
      if (p === ROOT) break;
    }
  }

  private triggerChild(path: string, type: EventType, zxid: Zxid, acl: AclEntry, out: WatchEvent[]): void {
    this.fireOneShot(KIND_CHILD, path, type, zxid, acl, out);
    this.fireKeep(this.tables[KIND_PERSISTENT].get(path), path, type, zxid, acl, out);
  }

  // A one-shot watch is consumed here even if the server then withholds the event
  // for lack of READ (ZooKeeper removes it in triggerWatch, before the ACL check).
  private fireOneShot(kind: Kind, path: string, type: EventType, zxid: Zxid, acl: AclEntry, out: WatchEvent[]): void {
    const table = this.tables[kind];
    const watchers = table.get(path);
    if (watchers === undefined) return;
    table.delete(path);
    if (typeof watchers === 'number') {
      this.unindex(kind, path, watchers);
      this.emit(watchers, path, type, zxid, acl, out);
    } else {
      for (const w of watchers) {
        this.unindex(kind, path, w);
        this.emit(w, path, type, zxid, acl, out);
      }
    }
  }

  private fireKeep(watchers: Watchers | undefined, path: string, type: EventType, zxid: Zxid, acl: AclEntry, out: WatchEvent[]): void {
    if (watchers === undefined) return;
    if (typeof watchers === 'number') this.emit(watchers, path, type, zxid, acl, out);
    else for (const w of watchers) this.emit(w, path, type, zxid, acl, out);
  }

  private emit(watcher: WatcherId, path: string, type: EventType, zxid: Zxid, acl: AclEntry, out: WatchEvent[]): void {
    if (this.fired.has(watcher)) return;
    this.fired.add(watcher);
    out.push({ watcher, path, type, zxid, acl });
  }

  // -------------------------------------------------------------------------

  private add(kind: Kind, path: string, watcher: WatcherId): void {
    const table = this.tables[kind];
    const current = table.get(path);
    if (current === undefined) table.set(path, watcher);
    else if (typeof current === 'number') {
      if (current === watcher) return;
      table.set(path, new Set([current, watcher]));
    } else {
      if (current.has(watcher)) return;
      current.add(watcher);
    }
    let paths = this.byWatcher.get(watcher);
    if (paths === undefined) {
      paths = [null, null, null, null];
      this.byWatcher.set(watcher, paths);
    }
    (paths[kind] ??= new Set()).add(path);
  }

  private remove(kind: Kind, path: string, watcher: WatcherId): boolean {
    if (!this.detach(this.tables[kind], path, watcher)) return false;
    this.unindex(kind, path, watcher);
    return true;
  }

  private detach(table: Map<string, Watchers>, path: string, watcher: WatcherId): boolean {
    const current = table.get(path);
    if (current === undefined) return false;
    if (typeof current === 'number') {
      if (current !== watcher) return false;
      table.delete(path);
      return true;
    }
    if (!current.delete(watcher)) return false;
    if (current.size === 1) table.set(path, current.values().next().value as WatcherId);
    return true;
  }

  private unindex(kind: Kind, path: string, watcher: WatcherId): void {
    const paths = this.byWatcher.get(watcher);
    if (paths === undefined) return;
    const set = paths[kind];
    if (set === null) return;
    set.delete(path);
    if (set.size === 0) {
      paths[kind] = null;
      if (paths.every((s) => s === null)) this.byWatcher.delete(watcher);
    }
  }
}

function contains(watchers: Watchers | undefined, watcher: WatcherId): boolean {
  if (watchers === undefined) return false;
  return typeof watchers === 'number' ? watchers === watcher : watchers.has(watcher);
}
