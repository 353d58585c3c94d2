// apply: every replica's half of a write, run in log order. It re-checks the
// dynamic rules (an earlier entry in the log may have changed the tree since the
// leader prepared this txn), then changes the tree, or fails changing nothing.
// Two trees applying the same txns end identical. It returns the client's result
// and, when given this server's watch registry, the watch events it triggered in
// order (a node's own event before its parent's NodeChildrenChanged).
//
// ACLs are re-checked with the auth ids the txn carries (a setACL committed since
// prepare may have revoked the right). A multi is checked whole against a
// speculative view first and then applied, so a failing multi never needs a rollback.
import { assert } from '../util/assert.js';
import { checkCreate, checkDelete, checkMulti, checkSetAcl, checkSetData, type AclCheck } from './checks.js';
import { ErrorCode, type FailureCode } from './errors.js';
import { parentOf } from './paths.js';
import { failedMultiResult } from './prepare.js';
import type { DataTree } from './tree.js';
import type { CreateResult, CreateTxn, MultiOpResult, MultiResult, Txn, TxnResult, Zxid } from './types.js';
import type { WatchEvent, WatchRegistry } from './watches.js';
import { statOf } from './znode.js';

export type Applied =
  | { readonly error: 0; readonly value: TxnResult; readonly events: readonly WatchEvent[] }
  | { readonly error: FailureCode; readonly value?: MultiResult; readonly events: readonly WatchEvent[] };

const NO_EVENTS: readonly WatchEvent[] = Object.freeze([]);

/**
 * A log position that holds no txn (a Raft leader's no-op, a membership change):
 * the tree's zxid still moves to it, so the tree's zxid is always the applied index.
 */
export function applyEmpty(tree: DataTree, zxid: Zxid): void {
  if (!(Number.isSafeInteger(zxid) && zxid > tree.lastZxid)) assert(false, () => `applyEmpty: zxid ${zxid} is not above the tree's ${tree.lastZxid}`);
  tree.lastZxid = zxid;
}

export function apply(tree: DataTree, txn: Txn, zxid: Zxid, watches?: WatchRegistry): Applied {
  if (!(Number.isSafeInteger(zxid) && zxid > tree.lastZxid)) assert(false, () => `apply: zxid ${zxid} is not above the tree's ${tree.lastZxid}`);
  tree.lastZxid = zxid;
  const events: WatchEvent[] = [];
  const time = txn.timeMs;
  const acl: AclCheck | null = txn.authIds === undefined ? null : { authIds: txn.authIds, superDigest: tree.options.superDigest };
  switch (txn.type) {
    case 'create': {
      const path = checkCreate(tree, txn, acl, tree.options.maxPathBytes);
      if (typeof path === 'number') return failed(path);
      return done(applyCreate(tree, txn, path, zxid, time, watches, events), events);
    }
    case 'delete': {
      const error = checkDelete(tree, txn, acl);
      if (error !== null) return failed(error);
      removeNode(tree, txn.path, zxid, watches, events);
      return done({ type: 'delete' }, events);
    }
    case 'setData': {
      const error = checkSetData(tree, txn, acl);
      if (error !== null) return failed(error);
      const node = tree.nodes.get(txn.path)!;
      tree.setNodeData(txn.path, node, txn.data, zxid, time);
      watches?.dataChanged(txn.path, zxid, node.aclEntry, events);
      return done({ type: 'setData', stat: statOf(node) }, events);
    }
    case 'setACL': {
      const error = checkSetAcl(tree, txn.path, txn.version, acl);
      if (error !== null) return failed(error);
      const node = tree.nodes.get(txn.path)!;
      tree.setNodeAcl(txn.path, node, txn.acl);
      return done({ type: 'setACL', stat: statOf(node) }, events);
    }
    case 'multi': {
      const checked = checkMulti(tree, txn.ops, acl, tree.options.maxPathBytes);
      if (!checked.ok) {
        return { error: checked.error, value: failedMultiResult(txn.ops.length, checked.failedAt, checked.error), events: NO_EVENTS };
      }
      const results: MultiOpResult[] = [];
      for (let i = 0; i < txn.ops.length; i++) {
        const op = txn.ops[i];
        const path = checked.paths[i];
        switch (op.type) {
          case 'create':
            results.push(applyCreate(tree, op, path, zxid, time, watches, events));
            break;
          case 'delete':
            removeNode(tree, path, zxid, watches, events);
            results.push({ type: 'delete' });
            break;
          case 'setData': {
            const node = tree.nodes.get(path);
            if (node === undefined) assert(false, () => `multi setData ${path}: checked but missing`);
            tree.setNodeData(path, node, op.data, zxid, time);
            watches?.dataChanged(path, zxid, node.aclEntry, events);
            results.push({ type: 'setData', stat: statOf(node) });
            break;
          }
          case 'check':
            results.push({ type: 'check' });
            break;
        }
      }
      return done({ type: 'multi', results }, events);
    }
    case 'sync':
      return done({ type: 'sync', path: txn.path }, events);
    case 'createSession':
      if (tree.sessions.has(txn.sessionId)) return failed(ErrorCode.BadArguments);
      tree.addSession(txn.sessionId, txn.timeoutMs);
      return done({ type: 'createSession', sessionId: txn.sessionId }, events);
    case 'closeSession': {
      const session = tree.sessions.get(txn.sessionId);
      // Closing an unknown (already closed) session is a no-op, as in ZooKeeper.
      if (session === undefined) return done({ type: 'closeSession', sessionId: txn.sessionId }, events);
      // Its watches go first: a closed session receives nothing.
      watches?.removeWatcher(txn.sessionId);
      // Sorted, so every replica fires the same events in the same order.
      const paths = [...session.ephemerals].sort();
      for (const path of paths) {
        removeNode(tree, path, zxid, watches, events);
      }
      tree.removeSession(txn.sessionId);
      return done({ type: 'closeSession', sessionId: txn.sessionId }, events);
    }
  }
}

function applyCreate(tree: DataTree, txn: CreateTxn, path: string, zxid: Zxid, time: number, watches: WatchRegistry | undefined, events: WatchEvent[]): CreateResult {
  const node = tree.addNode(path, txn.data, txn.acl, txn.kind, txn.ephemeralOwner, txn.ttlMs, zxid, time);
  if (watches !== undefined) watches.nodeCreated(path, zxid, node.aclEntry, tree.nodes.get(parentOf(path))!.aclEntry, events);
  return { type: 'create', path, stat: statOf(node) };
}

/** Removes a node; its watch events carry its ACL as it was (taken before removal) and its parent's. */
function removeNode(tree: DataTree, path: string, zxid: Zxid, watches: WatchRegistry | undefined, events: WatchEvent[]): void {
  if (watches === undefined) {
    tree.removeNode(path, zxid);
    return;
  }
  const acl = tree.nodes.get(path)!.aclEntry;
  tree.removeNode(path, zxid);
  watches.nodeDeleted(path, zxid, acl, tree.nodes.get(parentOf(path))!.aclEntry, events);
}

function done(value: TxnResult, events: readonly WatchEvent[]): Applied {
  return { error: 0, value, events };
}

function failed(error: FailureCode): Applied {
  return { error, events: NO_EVENTS };
}
