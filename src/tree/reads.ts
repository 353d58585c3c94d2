// Reads, served by any server from its own tree: exists, getData, getChildren
// (whole or paged), getAllChildrenNumber, getEphemerals, getACL, multiRead, plus
// watch registration with ZooKeeper's rules (NOTES 9): exists on a missing node
// sets a watch that fires on create; getData and getChildren on a missing node
// fail with NoNode and set none; a read refused by its ACL sets none.
//
// A path found in the tree is valid (only valid paths are ever stored), so reads
// validate a path only when the lookup misses: the hit path stays short.
import { Perm, entryAllows, redactAcl, type Acl } from './acl.js';
import { ErrorCode, type FailureCode } from './errors.js';
import { isValidPath } from './paths.js';
import type { DataTree } from './tree.js';
import type { NodeData, RequestSession, SessionId, Stat } from './types.js';
import type { WatchRegistry, WatcherId } from './watches.js';
import { loadData, statOf, type Znode } from './znode.js';

/** Where to register a watch the read asks for. */
export interface WatchTarget {
  readonly registry: WatchRegistry;
  readonly watcher: WatcherId;
}

export type ReadOutcome<T> = ({ readonly error: 0 } & T) | { readonly error: FailureCode };

export interface ChildrenPage {
  /** Return names strictly after this one (the previous page's `next`). */
  readonly after?: string;
  /** Most names to return; default and maximum: options.maxChildrenPageSize. */
  readonly limit?: number;
}

const BAD_ARGUMENTS = { error: ErrorCode.BadArguments } as const;
const NO_NODE = { error: ErrorCode.NoNode } as const;
const NO_AUTH = { error: ErrorCode.NoAuth } as const;

function canRead(tree: DataTree, node: Znode, session: RequestSession, perm: number): boolean {
  // The overwhelmingly common world:anyone grant: no walk over the list.
  return entryAllows(node.aclEntry, perm, session.authIds, tree.options.superDigest);
}

/** exists: Stat or NoNode; no ACL check (as ZooKeeper). A watch is set either way. */
export function exists(tree: DataTree, path: string, session: RequestSession, watch?: WatchTarget): ReadOutcome<{ stat: Stat }> {
  const node = tree.nodes.get(path);
  if (node === undefined && !isValidPath(path, tree.options.maxPathBytes)) return BAD_ARGUMENTS;
  watch?.registry.addDataWatch(path, watch.watcher);
  return node === undefined ? NO_NODE : { error: 0, stat: statOf(node) };
}

/** getData: a fresh copy of the node's bytes (null for null data) and its Stat; needs READ. */
export function getData(tree: DataTree, path: string, session: RequestSession, watch?: WatchTarget): ReadOutcome<{ data: NodeData; stat: Stat }> {
  const node = tree.nodes.get(path);
  if (node === undefined) return isValidPath(path, tree.options.maxPathBytes) ? NO_NODE : BAD_ARGUMENTS;
  if (!canRead(tree, node, session, Perm.Read)) return NO_AUTH;
  watch?.registry.addDataWatch(path, watch.watcher);
  return { error: 0, data: loadData(node.data), stat: statOf(node) };
}

/**
 * getChildren: names in ascending order and the parent's Stat; needs READ.
 * Without `page`, all children (as ZooKeeper). With `page`, at most `limit` names
 * after `page.after`, and `next` (the last name returned) when more remain.
 */
export function getChildren(
  tree: DataTree,
  path: string,
  session: RequestSession,
  watch?: WatchTarget,
  page?: ChildrenPage,
): ReadOutcome<{ children: readonly string[]; stat: Stat; next?: string }> {
  if (!isValidPath(path, tree.options.maxPathBytes)) return BAD_ARGUMENTS;
  const maxPage = tree.options.maxChildrenPageSize;
  if (page !== undefined) {
    const limit = page.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > maxPage)) return BAD_ARGUMENTS;
    if (page.after !== undefined && (typeof page.after !== 'string' || page.after.length > tree.options.maxPathBytes)) return BAD_ARGUMENTS;
  }
  const node = tree.nodes.get(path);
  if (node === undefined) return NO_NODE;
  if (!canRead(tree, node, session, Perm.Read)) return NO_AUTH;
  watch?.registry.addChildWatch(path, watch.watcher);
  // Children are stored as full paths; every one starts with this prefix.
  const prefix = path === '/' ? '/' : path + '/';
  if (page === undefined) {
    const all = node.childPaths();
    return { error: 0, children: namesOf(all, 0, all.length, prefix.length), stat: statOf(node) };
  }
  const { paths, more } = node.childPage(page.after === undefined ? undefined : prefix + page.after, page.limit ?? maxPage);
  const children = namesOf(paths, 0, paths.length, prefix.length);
  return more ? { error: 0, children, stat: statOf(node), next: children[children.length - 1] } : { error: 0, children, stat: statOf(node) };
}

function namesOf(paths: readonly string[], start: number, end: number, prefixLength: number): string[] {
  const names = new Array<string>(end - start);
  for (let i = start; i < end; i++) names[i - start] = paths[i].slice(prefixLength);
  return names;
}

/** getAllChildrenNumber: every descendant, not just direct children (ZooKeeper 3.6); needs READ. */
export function getAllChildrenNumber(tree: DataTree, path: string, session: RequestSession): ReadOutcome<{ count: number }> {
  if (!isValidPath(path, tree.options.maxPathBytes)) return BAD_ARGUMENTS;
  const node = tree.nodes.get(path);
  if (node === undefined) return NO_NODE;
  if (!canRead(tree, node, session, Perm.Read)) return NO_AUTH;
  // ZooKeeper counts keys with the path prefix; the root counts every node but itself.
  if (path === '/') return { error: 0, count: tree.nodes.size - 1 };
  let count = 0;
  const stack: string[] = [path];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const node = tree.nodes.get(p);
    if (node === undefined || node.children === null) continue;
    const children = node.childPaths();
    count += children.length;
    for (const child of children) stack.push(child);
  }
  return { error: 0, count };
}

/** getEphemerals: the session's ephemeral paths starting with `prefix` ("/" for all), sorted. */
export function getEphemerals(tree: DataTree, sessionId: SessionId, prefix = '/'): ReadOutcome<{ paths: readonly string[] }> {
  // A prefix is a path or the start of one ("/app/lock-", "/app/"): valid once completed.
  if (!isValidPath(prefix, tree.options.maxPathBytes) && !isValidPath(prefix + 'x', tree.options.maxPathBytes)) return BAD_ARGUMENTS;
  const session = tree.sessions.get(sessionId);
  if (session === undefined) return { error: 0, paths: [] };
  const paths = [...session.ephemerals].filter((p) => p.startsWith(prefix)).sort();
  return { error: 0, paths };
}

/**
 * getACL: the list and Stat. Needs READ or ADMIN; without ADMIN, digest hashes
 * come back as "user:x" (ZooKeeper 3.6+).
 */
export function getAcl(tree: DataTree, path: string, session: RequestSession): ReadOutcome<{ acl: readonly Acl[]; stat: Stat }> {
  if (!isValidPath(path, tree.options.maxPathBytes)) return BAD_ARGUMENTS;
  const node = tree.nodes.get(path);
  if (node === undefined) return NO_NODE;
  if (!canRead(tree, node, session, Perm.Read | Perm.Admin)) return NO_AUTH;
  const acl = canRead(tree, node, session, Perm.Admin) ? node.aclEntry.list : redactAcl(node.aclEntry.list);
  return { error: 0, acl, stat: statOf(node) };
}

export type ReadOp = { readonly type: 'getData'; readonly path: string } | { readonly type: 'getChildren'; readonly path: string };
export type ReadOpResult =
  | { readonly type: 'getData'; readonly data: NodeData; readonly stat: Stat }
  | { readonly type: 'getChildren'; readonly children: readonly string[] }
  | { readonly type: 'error'; readonly error: FailureCode };

/**
 * multiRead: getData / getChildren ops, each answered on its own (one failing does
 * not fail the others, as ZooKeeper's read-only multi). Sets no watches.
 */
export function multiRead(tree: DataTree, ops: readonly ReadOp[], session: RequestSession): ReadOutcome<{ results: readonly ReadOpResult[] }> {
  if (ops.length > tree.options.maxMultiOps) return BAD_ARGUMENTS;
  const results: ReadOpResult[] = ops.map((op): ReadOpResult => {
    if (op.type === 'getData') {
      const r = getData(tree, op.path, session);
      return r.error === 0 ? { type: 'getData', data: r.data, stat: r.stat } : { type: 'error', error: r.error };
    }
    const r = getChildren(tree, op.path, session);
    return r.error === 0 ? { type: 'getChildren', children: r.children } : { type: 'error', error: r.error };
  });
  return { error: 0, results };
}
