// The client's watcher registry, with ZooKeeper's semantics: one-shot data, exist
// and child watchers keyed by path, each fired once by the first matching event;
// persistent and persistent-recursive watchers fire until removed. The server
// keeps one watch per (session, path, kind); this registry maps its events back
// to the listeners, and lists what to re-register after a reconnect.
import { EventType, type ClientRequest, type EventTypeName } from '../protocol/types.js';
import type { Watcher, WatcherKind } from './types.js';

export type WatchSlot = 'data' | 'exist' | 'child' | 'persistent' | 'recursive';

/** Paths per setWatches request, and their total bytes: well inside the server's decode and frame limits. */
const MAX_SET_WATCHES_PATHS = 10_000;
const MAX_SET_WATCHES_BYTES = 512 * 1024;

const EVENT_NAMES = new Map<number, EventTypeName>(Object.entries(EventType).map(([name, n]) => [n, name as EventTypeName]));

export function eventTypeName(type: number): EventTypeName | undefined {
  return EVENT_NAMES.get(type);
}

/** A watcher taken out of the registry by removeWatches, with the event type it is told. */
export interface RemovedWatcher {
  readonly watcher: Watcher;
  readonly type: EventTypeName;
}

export class WatchRegistry {
  private readonly slots: Record<WatchSlot, Map<string, Set<Watcher>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
    persistent: new Map(),
    recursive: new Map(),
  };

  add(slot: WatchSlot, path: string, watcher: Watcher): void {
    const map = this.slots[slot];
    let set = map.get(path);
    if (set === undefined) map.set(path, (set = new Set()));
    set.add(watcher);
  }

  get size(): number {
    let n = 0;
    for (const map of Object.values(this.slots)) for (const set of map.values()) n += set.size;
    return n;
  }

  /**
   * The watchers a node event triggers, one-shot ones removed (ZooKeeper's
   * ZKWatchManager.materialize). A recursive watcher sees every event but
   * NodeChildrenChanged for its path and everything below it.
   */
  take(type: number, path: string): Watcher[] {
    const out = new Set<Watcher>();
    const takeFrom = (slot: WatchSlot): void => {
      const set = this.slots[slot].get(path);
      if (set === undefined) return;
      this.slots[slot].delete(path);
      for (const w of set) out.add(w);
    };
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        takeFrom('data');
        takeFrom('exist');
        break;
      case EventType.NodeChildrenChanged:
        takeFrom('child');
        break;
      case EventType.NodeDeleted:
        takeFrom('data');
        takeFrom('exist');
        takeFrom('child');
        break;
      case EventType.Compacted:
        // The server could not replay a gap for this path's persistent watches: tell exactly those.
        for (const w of this.slots.persistent.get(path) ?? []) out.add(w);
        for (const w of this.slots.recursive.get(path) ?? []) out.add(w);
        return [...out];
      default:
        // State events and *WatchRemoved: the client produces those itself.
        return [];
    }
    for (const w of this.slots.persistent.get(path) ?? []) out.add(w);
    if (type !== EventType.NodeChildrenChanged && this.slots.recursive.size > 0) {
      for (let p = path; ; p = parentOf(p)) {
        for (const w of this.slots.recursive.get(p) ?? []) out.add(w);
        if (p === '/') break;
      }
    }
    return [...out];
  }

  /** Every watcher, once each, and the registry emptied: for the end of the session. */
  drain(): Watcher[] {
    const out = new Set<Watcher>();
    for (const map of Object.values(this.slots)) {
      for (const set of map.values()) for (const w of set) out.add(w);
      map.clear();
    }
    return [...out];
  }

  /**
   * Plans removeWatches(path, kind, watcher?): which registrations go, and whether
   * the server must be told (only when no watcher of that kind is left on the path,
   * since the server holds one watch per path and kind for the whole session).
   */
  planRemoval(path: string, kind: WatcherKind, watcher?: Watcher): { removed: RemovedWatcher[]; tellServer: boolean; commit: () => void } {
    const slots: WatchSlot[] = kind === 'data' ? ['data', 'exist'] : kind === 'children' ? ['child'] : ['data', 'exist', 'child', 'persistent', 'recursive'];
    const removed: RemovedWatcher[] = [];
    let left = 0;
    for (const slot of slots) {
      for (const w of this.slots[slot].get(path) ?? []) {
        if (watcher === undefined || w === watcher) removed.push({ watcher: w, type: removedEventType(slot) });
        else left++;
      }
    }
    const commit = (): void => {
      for (const slot of slots) {
        const set = this.slots[slot].get(path);
        if (set === undefined) continue;
        if (watcher === undefined) set.clear();
        else set.delete(watcher);
        if (set.size === 0) this.slots[slot].delete(path);
      }
    };
    return { removed, tellServer: removed.length > 0 && left === 0, commit };
  }

  /** setWatches requests that re-register every watched path after a reconnect. */
  setWatchesRequests(relativeZxid: number): Extract<ClientRequest, { op: 'setWatches' }>[] {
    const out: Extract<ClientRequest, { op: 'setWatches' }>[] = [];
    let lists: Record<WatchSlot, string[]> = emptyLists();
    let paths = 0;
    let bytes = 0;
    const flush = (): void => {
      if (paths === 0) return;
      out.push({
        op: 'setWatches',
        relativeZxid,
        dataWatches: lists.data,
        existWatches: lists.exist,
        childWatches: lists.child,
        persistentWatches: lists.persistent,
        persistentRecursiveWatches: lists.recursive,
      });
      lists = emptyLists();
      paths = 0;
      bytes = 0;
    };
    for (const slot of Object.keys(this.slots) as WatchSlot[]) {
      for (const [path, set] of this.slots[slot]) {
        if (set.size === 0) continue;
        // Counting UTF-16 units over-estimates nothing by much; a bound, not an exact size.
        const size = path.length * 3 + 8;
        if (paths >= MAX_SET_WATCHES_PATHS || bytes + size > MAX_SET_WATCHES_BYTES) flush();
        lists[slot].push(path);
        paths++;
        bytes += size;
      }
    }
    flush();
    return out;
  }
}

function emptyLists(): Record<WatchSlot, string[]> {
  return { data: [], exist: [], child: [], persistent: [], recursive: [] };
}

function removedEventType(slot: WatchSlot): EventTypeName {
  return slot === 'child' ? 'ChildWatchRemoved' : slot === 'data' || slot === 'exist' ? 'DataWatchRemoved' : 'PersistentWatchRemoved';
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
