// findExpired: the deletes a leader proposes for containers and TTL nodes that
// have run their course. Pure: it reads the tree and a time handed in; the txns go
// through the log like any write. Each delete carries the node's current version,
// so if the node is changed (setData) before the delete commits, the delete fails
// with BadVersion; if it gains a child, with NotEmpty. Either way nothing is lost
// and the next sweep looks again.
import type { DataTree } from './tree.js';
import type { Txn } from './types.js';

export const DEFAULT_MAX_EXPIRED_PER_SWEEP = 1000;

export function findExpired(tree: DataTree, nowMs: number, maxTxns = DEFAULT_MAX_EXPIRED_PER_SWEEP): Txn[] {
  const found: { path: string; version: number }[] = [];
  // A container that had children (cversion > 0, as ZooKeeper's ContainerManager)
  // and has none now. One that never had a child stays (NOTES 3).
  for (const path of tree.containers) {
    const node = tree.nodes.get(path);
    if (node !== undefined && node.children === null && node.cversion > 0) found.push({ path, version: node.version });
  }
  // A TTL node with no children, unmodified for longer than its TTL.
  for (const path of tree.ttlNodes) {
    const node = tree.nodes.get(path);
    if (node !== undefined && node.children === null && nowMs - node.mtime > node.ttlMs) found.push({ path, version: node.version });
  }
  // Sorted: the sets' order depends on history; the proposal order should not.
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return found.slice(0, maxTxns).map(({ path, version }) => ({ type: 'delete', path, version, timeMs: nowMs }));
}
