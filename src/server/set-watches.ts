// setWatches: a reconnecting client hands back the watches it had, with the last
// zxid it saw. As ZooKeeper's DataTree.setWatches: a watch whose node changed
// after that zxid fires at once (the client missed the change while away);
// the others are registered again. Persistent watches are simply re-added.
// The events are handed to `fire`, not sent: one frame may name up to 100,000 paths
// (DEFAULT_DECODE_LIMITS.maxWatchPaths), so the connection sends them in slices
// (connection.ts's outbox) and other clients are served in between.
// ACLs: a watch registered again here obeys the node's ACL when it later fires
// (node.ts deliverEvents). The events fired at once below are NOT filtered, exactly
// as in ZooKeeper 3.8.4 / 3.9.2: DataTree.setWatches calls watcher.process(event),
// i.e. ServerCnxn.process(event, null), and checkACL passes a null ACL.
// (Tree semantics over the tree's read API; it belongs with src/tree's watch rules.)
import type { ClientRequest } from '../protocol/index.js';
import { AddWatchMode, EventType } from '../tree/index.js';
import type { ZookNode } from './node.js';

export type WatchLists = Omit<Extract<ClientRequest, { op: 'setWatches' }>, 'op'>;

/** Registers the watches again; `fire` gets each event due at once, in ZooKeeper's order. */
export function setWatches(node: ZookNode, sessionId: number, lists: WatchLists, fire: (type: number, path: string) => void): void {
  const { tree, watches } = node;
  const since = lists.relativeZxid;
  for (const path of lists.dataWatches) {
    const n = tree.nodes.get(path);
    if (n === undefined) fire(EventType.NodeDeleted, path);
    else if (n.mzxid > since) fire(EventType.NodeDataChanged, path);
    else watches.addDataWatch(path, sessionId);
  }
  for (const path of lists.existWatches) {
    if (tree.nodes.has(path)) fire(EventType.NodeCreated, path);
    else watches.addDataWatch(path, sessionId);
  }
  for (const path of lists.childWatches) {
    const n = tree.nodes.get(path);
    if (n === undefined) fire(EventType.NodeDeleted, path);
    else if (n.pzxid > since) fire(EventType.NodeChildrenChanged, path);
    else watches.addChildWatch(path, sessionId);
  }
  for (const path of lists.persistentWatches) watches.addPersistentWatch(path, sessionId, AddWatchMode.Persistent);
  for (const path of lists.persistentRecursiveWatches) watches.addPersistentWatch(path, sessionId, AddWatchMode.PersistentRecursive);
}
