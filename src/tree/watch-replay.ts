// Replaying what a set of watches missed: the changes after `fromZxid` (history.ts)
// run through a scratch registry that holds only these watches, with the very
// trigger rules of live events (one-shot watches fire once and are consumed,
// persistent ones fire on every change, recursive ones for the whole subtree but
// never NodeChildrenChanged). Whatever did not fire is then registered live. Run in
// one turn with no apply in between, so the replayed events and the live ones
// meet exactly: none missed, none twice.
import type { ChangeHistory } from './history.js';
import type { Zxid } from './types.js';
import { AddWatchMode, WatchRegistry, type WatchEvent, type WatcherId } from './watches.js';

/** The watches of one watcher, by kind (setWatches' five lists). */
export interface WatchLists {
  readonly dataWatches: readonly string[];
  readonly existWatches: readonly string[];
  readonly childWatches: readonly string[];
  readonly persistentWatches: readonly string[];
  readonly persistentRecursiveWatches: readonly string[];
}

/**
 * The events `watches` would have delivered after `fromZxid`, in order, with the
 * watches that remain registered in `live`; null (and nothing registered) if the
 * history does not reach back to `fromZxid`.
 */
export function replayWatches(history: ChangeHistory, live: WatchRegistry, watcher: WatcherId, fromZxid: Zxid, watches: WatchLists): WatchEvent[] | null {
  if (!history.covers(fromZxid)) return null;
  const scratch = new WatchRegistry();
  // An exist watch is a data watch on a node that did not exist (ZooKeeper keeps both in one table).
  for (const path of watches.dataWatches) scratch.addDataWatch(path, watcher);
  for (const path of watches.existWatches) scratch.addDataWatch(path, watcher);
  for (const path of watches.childWatches) scratch.addChildWatch(path, watcher);
  for (const path of watches.persistentWatches) scratch.addPersistentWatch(path, watcher, AddWatchMode.Persistent);
  for (const path of watches.persistentRecursiveWatches) scratch.addPersistentWatch(path, watcher, AddWatchMode.PersistentRecursive);
  const out: WatchEvent[] = [];
  history.replay(fromZxid, scratch, out);
  scratch.moveWatcher(watcher, live);
  return out;
}
