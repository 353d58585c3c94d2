// The dynamic ZooKeeper rules (existence, versions, emptiness, ephemeral parents,
// ACLs, sequential names), written once against a NodeView so that prepare (on the
// current tree, or on a multi's speculative state) and apply (on the tree, re-run
// because earlier log entries may have changed it) use the same code, in
// ZooKeeper's check order (PrepRequestProcessor).
import { assert } from '../util/assert.js';
import { Perm, hasPermission, type Acl, type Id } from './acl.js';
import { ErrorCode, type FailureCode } from './errors.js';
import { ROOT, isValidPath, parentOf, sequenceSuffix } from './paths.js';
import { isUndeletablePath } from './system.js';
import { NodeKind, type CreateTxn, type DeleteTxn, type MultiOpTxn, type SetDataTxn, type CheckTxn, type SessionId } from './types.js';

/** What the rules need to know about a node. Znode satisfies it. */
export interface NodeFacts {
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: SessionId;
  readonly kind: NodeKind;
  readonly numChildren: number;
  readonly childCreates: number;
  readonly acl: readonly Acl[];
}

export interface NodeView {
  lookup(path: string): NodeFacts | undefined;
  hasSession(sessionId: SessionId): boolean;
}

/** Whose rights to check; null for a system txn (expiry deletes), which skips ACLs. */
export interface AclCheck {
  readonly authIds: readonly Id[];
  readonly superDigest: string | null;
}

function allowed(acl: readonly Acl[], perm: number, check: AclCheck | null): boolean {
  return check === null || hasPermission(acl, perm, check.authIds, check.superDigest);
}

function versionMatches(expected: number, actual: number): boolean {
  return expected === -1 || expected === actual;
}

/**
 * Create: parent exists (NoNode), CREATE on parent (NoAuth), sequential name,
 * name free (NodeExists), parent not ephemeral (NoChildrenForEphemerals), owner
 * session alive (SessionExpired). Returns the final path or an error.
 */
export function checkCreate(view: NodeView, txn: CreateTxn, acl: AclCheck | null, maxPathBytes: number): string | FailureCode {
  const requested = txn.sequentialPrefix !== '' ? txn.sequentialPrefix : txn.path;
  if (requested === ROOT && txn.sequentialPrefix === '') return ErrorCode.NodeExists;
  const parentPath = parentOfRequested(requested);
  const parent = view.lookup(parentPath);
  if (parent === undefined) return ErrorCode.NoNode;
  if (!allowed(parent.acl, Perm.Create, acl)) return ErrorCode.NoAuth;
  let path = txn.path;
  if (txn.sequentialPrefix !== '') {
    path = txn.sequentialPrefix + sequenceSuffix(parent.childCreates);
    if (!isValidPath(path, maxPathBytes)) return ErrorCode.BadArguments;
  }
  if (view.lookup(path) !== undefined) return ErrorCode.NodeExists;
  if (parent.kind === NodeKind.Ephemeral) return ErrorCode.NoChildrenForEphemerals;
  if (txn.kind === NodeKind.Ephemeral && !view.hasSession(txn.ephemeralOwner)) return ErrorCode.SessionExpired;
  return path;
}

/** The parent of a requested (possibly sequential-prefix) path: "/p/" and "/p/x" both have parent "/p". */
export function parentOfRequested(requested: string): string {
  const slash = requested.lastIndexOf('/');
  return slash === 0 ? ROOT : requested.slice(0, slash);
}

/**
 * Delete, in ZooKeeper's order (PrepRequestProcessor, OpCode.delete): not the root
 * or a system node (BadArguments; ZooKeeper's getParentPathAndValidate runs before
 * any lookup, the path's shape having been checked first by prepare), parent exists
 * (NoNode), DELETE on parent (NoAuth), the node exists (NoNode), version
 * (BadVersion), then emptiness (NotEmpty; NOTES 6). So a missing child of a parent
 * that denies DELETE is NoAuth, not NoNode.
 */
export function checkDelete(view: NodeView, txn: DeleteTxn, acl: AclCheck | null): FailureCode | null {
  if (isUndeletablePath(txn.path)) return ErrorCode.BadArguments;
  const parent = view.lookup(parentOf(txn.path));
  if (parent === undefined) return ErrorCode.NoNode;
  if (!allowed(parent.acl, Perm.Delete, acl)) return ErrorCode.NoAuth;
  const node = view.lookup(txn.path);
  if (node === undefined) return ErrorCode.NoNode;
  if (!versionMatches(txn.version, node.version)) return ErrorCode.BadVersion;
  if (node.numChildren > 0) return ErrorCode.NotEmpty;
  return null;
}

export function checkSetData(view: NodeView, txn: SetDataTxn, acl: AclCheck | null): FailureCode | null {
  const node = view.lookup(txn.path);
  if (node === undefined) return ErrorCode.NoNode;
  if (!allowed(node.acl, Perm.Write, acl)) return ErrorCode.NoAuth;
  if (!versionMatches(txn.version, node.version)) return ErrorCode.BadVersion;
  return null;
}

export function checkSetAcl(view: NodeView, path: string, version: number, acl: AclCheck | null): FailureCode | null {
  const node = view.lookup(path);
  if (node === undefined) return ErrorCode.NoNode;
  if (!allowed(node.acl, Perm.Admin, acl)) return ErrorCode.NoAuth;
  if (!versionMatches(version, node.aversion)) return ErrorCode.BadVersion;
  return null;
}

export function checkCheck(view: NodeView, txn: CheckTxn, acl: AclCheck | null): FailureCode | null {
  const node = view.lookup(txn.path);
  if (node === undefined) return ErrorCode.NoNode;
  if (!allowed(node.acl, Perm.Read, acl)) return ErrorCode.NoAuth;
  if (!versionMatches(txn.version, node.version)) return ErrorCode.BadVersion;
  return null;
}

// ---------------------------------------------------------------------------
// A multi's speculative state: the tree plus the effects of the ops checked so far.

interface OverlayFacts {
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: SessionId;
  kind: NodeKind;
  numChildren: number;
  childCreates: number;
  acl: readonly Acl[];
}

class Overlay implements NodeView {
  private readonly changed = new Map<string, OverlayFacts | null>();
  constructor(private readonly base: NodeView) {}

  lookup(path: string): NodeFacts | undefined {
    const facts = this.changed.get(path);
    if (facts === null) return undefined;
    return facts ?? this.base.lookup(path);
  }

  hasSession(sessionId: SessionId): boolean {
    return this.base.hasSession(sessionId);
  }

  private writable(path: string): OverlayFacts {
    let facts = this.changed.get(path);
    if (facts === undefined || facts === null) {
      const base = this.base.lookup(path);
      // Only parents of checked creates/deletes and checked setData targets get here.
      if (base === undefined) assert(false, () => `overlay: ${path} missing`);
      facts = copyFacts(base);
      this.changed.set(path, facts);
    }
    return facts;
  }

  created(path: string, txn: CreateTxn): void {
    this.changed.set(path, {
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: txn.ephemeralOwner,
      kind: txn.kind,
      numChildren: 0,
      childCreates: 0,
      acl: txn.acl,
    });
    const parent = this.writable(parentOf(path));
    parent.numChildren++;
    parent.cversion++;
    parent.childCreates++;
  }

  deleted(path: string): void {
    this.changed.set(path, null);
    const parent = this.writable(parentOf(path));
    parent.numChildren--;
    parent.cversion++;
  }

  dataSet(path: string): void {
    this.writable(path).version++;
  }
}

function copyFacts(f: NodeFacts): OverlayFacts {
  return {
    version: f.version,
    cversion: f.cversion,
    aversion: f.aversion,
    ephemeralOwner: f.ephemeralOwner,
    kind: f.kind,
    numChildren: f.numChildren,
    childCreates: f.childCreates,
    acl: f.acl,
  };
}

/** Outcome of checking a whole multi: the final paths of its creates, or where it failed. */
export type MultiCheck = { readonly ok: true; readonly paths: readonly string[] } | { readonly ok: false; readonly failedAt: number; readonly error: FailureCode };

/**
 * Checks a multi's ops in order, each against the state the earlier ones would
 * leave. `paths[i]` is op i's path after sequential resolution.
 */
export function checkMulti(view: NodeView, ops: readonly MultiOpTxn[], acl: AclCheck | null, maxPathBytes: number): MultiCheck {
  const overlay = new Overlay(view);
  const paths: string[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    let error: FailureCode | null;
    switch (op.type) {
      case 'create': {
        const result = checkCreate(overlay, op, acl, maxPathBytes);
        if (typeof result === 'number') {
          error = result;
          break;
        }
        error = null;
        overlay.created(result, op);
        paths.push(result);
        continue;
      }
      case 'delete':
        error = checkDelete(overlay, op, acl);
        if (error === null) overlay.deleted(op.path);
        break;
      case 'setData':
        error = checkSetData(overlay, op, acl);
        if (error === null) overlay.dataSet(op.path);
        break;
      case 'check':
        error = checkCheck(overlay, op, acl);
        break;
    }
    if (error !== null) return { ok: false, failedAt: i, error };
    paths.push(op.path);
  }
  return { ok: true, paths };
}

