// setWatches: a reconnecting client hands back the watches it had, with the last
// zxid it saw. While this server's change history reaches back to that zxid
// (tree/history.ts, watchReplayMaxChanges / watchReplayMaxBytes), every event those
// watches would have delivered since is replayed, in zxid order, and what did not
// fire is registered again (tree/watch-replay.ts): nothing missed, nothing twice.
// Replayed events obey ACLs exactly as live ones do (node.ts deliverEvents).
// Otherwise ZooKeeper's DataTree.setWatches rule: a one-shot watch whose node changed
// after that zxid fires at once, the others are registered again, and each
// persistent watch is told Compacted (zook's protocol only: a stock ZooKeeper client
// has no such event) so that it can read again what it may have missed.
// The events are handed to `fire`, not sent: one frame may name up to 100,000 paths
// (DEFAULT_DECODE_LIMITS.maxWatchPaths), so the connection sends them in slices
// (connection.ts's outbox) and other clients are served in between.
// ACLs on the fallback path: the events fired at once are NOT filtered, exactly as in
// ZooKeeper 3.8.4 / 3.9.2: DataTree.setWatches calls watcher.process(event), i.e.
// ServerCnxn.process(event, null), and checkACL passes a null ACL.
import type { ClientRequest } from '../protocol/index.js';
import { EventType as WireEventType } from '../protocol/index.js';
import { AddWatchMode, EventType, Perm, entryAllows, replayWatches, type WatchEvent, type WatchLists } from '../tree/index.js';
import type { ZookNode } from './node.js';

export type SetWatchesRequest = Omit<Extract<ClientRequest, { op: 'setWatches' }>, 'op'>;

/** Sends one event: its type, path and zxid (a replayed event keeps the zxid of its change). */
export type FireEvent = (type: number, path: string, zxid: number) => void;

/** Registers the watches again; `fire` gets each event due at once, in order. */
export function setWatches(node: ZookNode, sessionId: number, lists: SetWatchesRequest, fire: FireEvent): void {
  replayOr(node, sessionId, lists.relativeZxid, lists, fire, () => {
    zookeeperSetWatches(node, sessionId, lists, fire);
    const oldest = node.watchHistory.oldestReplayableZxid;
    for (const path of lists.persistentWatches) fire(WireEventType.Compacted, path, oldest);
    for (const path of lists.persistentRecursiveWatches) fire(WireEventType.Compacted, path, oldest);
  });
}

/**
 * addWatch with fromZxid: the events this one watch would have delivered after
 * fromZxid, then the watch registered live; or, past the history, Compacted and
 * the watch registered live.
 */
export function addWatchFrom(node: ZookNode, sessionId: number, path: string, recursive: boolean, fromZxid: number, fire: FireEvent): void {
  const lists: WatchLists = {
    dataWatches: [],
    existWatches: [],
    childWatches: [],
    persistentWatches: recursive ? [] : [path],
    persistentRecursiveWatches: recursive ? [path] : [],
  };
  replayOr(node, sessionId, fromZxid, lists, fire, () => {
    node.watches.addPersistentWatch(path, sessionId, recursive ? AddWatchMode.PersistentRecursive : AddWatchMode.Persistent);
    fire(WireEventType.Compacted, path, node.watchHistory.oldestReplayableZxid);
  });
}

/** Replays what `lists` missed since `fromZxid` and registers them, or, past the history's reach, runs `pastTheHistory`. */
function replayOr(node: ZookNode, sessionId: number, fromZxid: number, lists: WatchLists, fire: FireEvent, pastTheHistory: () => void): void {
  const replayed = replayWatches(node.watchHistory, node.watches, sessionId, fromZxid, lists);
  if (replayed === null) {
    node.counters.watchReplaysCompacted++;
    pastTheHistory();
    return;
  }
  node.counters.watchReplays++;
  sendReplayed(node, sessionId, replayed, fire);
}

function sendReplayed(node: ZookNode, sessionId: number, events: readonly WatchEvent[], fire: FireEvent): void {
  const authIds = node.sessions.get(sessionId)?.authIds ?? [];
  const superDigest = node.tree.options.superDigest;
  for (const event of events) {
    if (!entryAllows(event.acl, Perm.Read, authIds, superDigest)) continue;
    fire(event.type, event.path, event.zxid);
    node.counters.watchEventsReplayed++;
  }
}

/** ZooKeeper's rule, from the tree as it is now: what changed since fires once, the rest is registered. */
function zookeeperSetWatches(node: ZookNode, sessionId: number, lists: SetWatchesRequest, fire: FireEvent): void {
  const { tree, watches } = node;
  const since = lists.relativeZxid;
  const now = node.lastApplied;
  for (const path of lists.dataWatches) {
    const n = tree.nodes.get(path);
    if (n === undefined) fire(EventType.NodeDeleted, path, now);
    else if (n.mzxid > since) fire(EventType.NodeDataChanged, path, now);
    else watches.addDataWatch(path, sessionId);
  }
  for (const path of lists.existWatches) {
    if (tree.nodes.has(path)) fire(EventType.NodeCreated, path, now);
    else watches.addDataWatch(path, sessionId);
  }
  for (const path of lists.childWatches) {
    const n = tree.nodes.get(path);
    if (n === undefined) fire(EventType.NodeDeleted, path, now);
    else if (n.pzxid > since) fire(EventType.NodeChildrenChanged, path, now);
    else watches.addChildWatch(path, sessionId);
  }
  for (const path of lists.persistentWatches) watches.addPersistentWatch(path, sessionId, AddWatchMode.Persistent);
  for (const path of lists.persistentRecursiveWatches) watches.addPersistentWatch(path, sessionId, AddWatchMode.PersistentRecursive);
}
