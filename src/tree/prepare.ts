// prepare: the leader's half of a write. It validates a request against the
// current tree (static rules first, then the dynamic ones in checks.ts, ACLs
// included), resolves sequential names and "auth" ACLs, stamps the leader's clock,
// and returns a self-contained txn for the log, or the error to answer with.
// It never changes the tree.
import { fixupAcl, type Acl } from './acl.js';
import { checkCreate, checkDelete, checkMulti, checkSetAcl, checkSetData, type AclCheck, type NodeView } from './checks.js';
import { ErrorCode, type FailureCode } from './errors.js';
import { isValidPath, isValidSequentialPrefix } from './paths.js';
import { setAclLocksOutCaller } from './system.js';
import type { DataTree } from './tree.js';
import {
  CreateMode,
  NodeKind,
  isEphemeralMode,
  isSequentialMode,
  isTtlMode,
  type CreateRequest,
  type CreateTxn,
  type MultiOpRequest,
  type MultiOpResult,
  type MultiOpTxn,
  type MultiResult,
  type NodeData,
  type RequestSession,
  type Txn,
  type WriteRequest,
} from './types.js';
import { assert } from '../util/assert.js';

export type Prepared =
  | { readonly error: 0; readonly txn: Txn }
  /** A rejected multi also carries ZooKeeper's per-op results. */
  | { readonly error: FailureCode; readonly multi?: MultiResult };

export function prepare(tree: DataTree, request: WriteRequest, session: RequestSession, nowMs: number): Prepared {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) assert(false, () => `prepare: nowMs ${nowMs} is not a non-negative safe integer`);
  const timeMs = nowMs;
  if (request.type === 'createSession') {
    const { sessionId, timeoutMs } = request;
    if (!isSessionId(sessionId) || sessionId === 0 || !Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) return failed(ErrorCode.BadArguments);
    if (tree.sessions.has(sessionId)) return failed(ErrorCode.BadArguments);
    return ok({ type: 'createSession', sessionId, timeoutMs, timeMs });
  }
  if (request.type === 'closeSession') {
    if (!isSessionId(request.sessionId)) return failed(ErrorCode.BadArguments);
    return ok({ type: 'closeSession', sessionId: request.sessionId, timeMs });
  }
  if (!tree.sessions.has(session.id)) return failed(ErrorCode.SessionExpired);
  const options = tree.options;
  const acl: AclCheck = { authIds: session.authIds, superDigest: options.superDigest };
  const view: NodeView = tree;
  switch (request.type) {
    case 'create': {
      const txn = createTxnOf(tree, request, session);
      if (typeof txn === 'number') return failed(txn);
      const path = checkCreate(view, txn, acl, options.maxPathBytes);
      if (typeof path === 'number') return failed(path);
      // Object literals, not spreads: a spread costs more than the rest of prepare.
      return ok({
        type: 'create',
        path,
        sequentialPrefix: txn.sequentialPrefix,
        data: txn.data,
        acl: txn.acl,
        kind: txn.kind,
        ephemeralOwner: txn.ephemeralOwner,
        ttlMs: txn.ttlMs,
        timeMs,
        authIds: session.authIds,
      });
    }
    case 'delete': {
      if (!isValidPath(request.path, options.maxPathBytes) || !isVersion(request.version)) return failed(ErrorCode.BadArguments);
      const txn = { type: 'delete', path: request.path, version: request.version, timeMs, authIds: session.authIds } as const;
      const error = checkDelete(view, txn, acl);
      return error === null ? ok(txn) : failed(error);
    }
    case 'setData': {
      const error = staticSetDataError(tree, request.path, request.data, request.version);
      if (error !== null) return failed(error);
      const txn = { type: 'setData', path: request.path, data: request.data, version: request.version, timeMs, authIds: session.authIds } as const;
      const dynamic = checkSetData(view, txn, acl);
      return dynamic === null ? ok(txn) : failed(dynamic);
    }
    case 'setACL': {
      if (!isValidPath(request.path, options.maxPathBytes) || !isVersion(request.version)) return failed(ErrorCode.BadArguments);
      const fixed = fixupAcl(request.acl, session.authIds, options.maxAclEntries, options.maxAclIdBytes);
      if (fixed === null) return failed(ErrorCode.InvalidACL);
      const error = checkSetAcl(view, request.path, request.version, acl);
      if (error !== null) return failed(error);
      // zook's one rule beyond ZooKeeper's (system.ts): the root and the system nodes cannot lock their caller out.
      if (setAclLocksOutCaller(request.path, fixed, session.authIds, options.superDigest)) return failed(ErrorCode.InvalidACL);
      return ok({ type: 'setACL', path: request.path, acl: fixed, version: request.version, timeMs, authIds: session.authIds });
    }
    case 'sync':
      return isValidPath(request.path, options.maxPathBytes) ? ok({ type: 'sync', path: request.path, timeMs }) : failed(ErrorCode.BadArguments);
    case 'multi':
      return prepareMulti(tree, view, request.ops, session, acl, timeMs);
  }
}

function prepareMulti(tree: DataTree, view: NodeView, ops: readonly MultiOpRequest[], session: RequestSession, acl: AclCheck, timeMs: number): Prepared {
  if (ops.length > tree.options.maxMultiOps) return failed(ErrorCode.BadArguments);
  // ZooKeeper checks op by op, each completely: the failing op is the first that
  // fails a static rule (bad path, size) or a dynamic one, whichever comes first.
  const txns: MultiOpTxn[] = [];
  let staticError: FailureCode | null = null;
  for (const op of ops) {
    const txn = multiOpTxnOf(tree, op, session);
    if (typeof txn === 'number') {
      staticError = txn;
      break;
    }
    txns.push(txn);
  }
  const checked = checkMulti(view, txns, acl, tree.options.maxPathBytes);
  if (!checked.ok) return failedMulti(ops.length, checked.failedAt, checked.error);
  if (staticError !== null) return failedMulti(ops.length, txns.length, staticError);
  // Record the predicted sequential names; apply re-derives them the same way.
  const resolved = txns.map((t, i): MultiOpTxn => (t.type === 'create' ? { ...t, path: checked.paths[i] } : t));
  return ok({ type: 'multi', ops: resolved, timeMs, authIds: session.authIds });
}

/** ZooKeeper's failed-multi results: Ok before the failing op, its error, RuntimeInconsistency after. */
export function failedMultiResult(count: number, failedAt: number, error: FailureCode): MultiResult {
  const results: MultiOpResult[] = [];
  for (let i = 0; i < count; i++) {
    const code = i < failedAt ? ErrorCode.Ok : i === failedAt ? error : ErrorCode.RuntimeInconsistency;
    results.push({ type: 'error', error: code });
  }
  return { type: 'multi', results };
}

function failedMulti(count: number, failedAt: number, error: FailureCode): Prepared {
  return { error, multi: failedMultiResult(count, failedAt, error) };
}

function multiOpTxnOf(tree: DataTree, op: MultiOpRequest, session: RequestSession): MultiOpTxn | FailureCode {
  const maxPathBytes = tree.options.maxPathBytes;
  switch (op.type) {
    case 'create':
      return createTxnOf(tree, op, session);
    case 'delete':
      if (!isValidPath(op.path, maxPathBytes) || !isVersion(op.version)) return ErrorCode.BadArguments;
      return { type: 'delete', path: op.path, version: op.version };
    case 'setData': {
      const error = staticSetDataError(tree, op.path, op.data, op.version);
      return error ?? { type: 'setData', path: op.path, data: op.data, version: op.version };
    }
    case 'check':
      if (!isValidPath(op.path, maxPathBytes) || !isVersion(op.version)) return ErrorCode.BadArguments;
      return { type: 'check', path: op.path, version: op.version };
    default:
      return ErrorCode.Unimplemented;
  }
}

/** The static half of create (mode, TTL, data size, path shape, ACL fixup); the dynamic half is checkCreate. */
function createTxnOf(tree: DataTree, request: CreateRequest, session: RequestSession): CreateTxn | FailureCode {
  const options = tree.options;
  const mode = request.mode;
  if (!Object.values(CreateMode).includes(mode)) return ErrorCode.BadArguments;
  const ttlMs = request.ttlMs ?? 0;
  if (isTtlMode(mode)) {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > options.maxTtlMs) return ErrorCode.BadArguments;
  } else if (ttlMs !== 0) {
    return ErrorCode.BadArguments;
  }
  if (request.data !== null && (!(request.data instanceof Uint8Array) || request.data.length > options.maxDataBytes)) return ErrorCode.BadArguments;
  const sequential = isSequentialMode(mode);
  const pathOk = sequential ? isValidSequentialPrefix(request.path, options.maxPathBytes) : isValidPath(request.path, options.maxPathBytes);
  if (!pathOk) return ErrorCode.BadArguments;
  const acl: Acl[] | null = fixupAcl(request.acl, session.authIds, options.maxAclEntries, options.maxAclIdBytes);
  if (acl === null) return ErrorCode.InvalidACL;
  const kind = isEphemeralMode(mode) ? NodeKind.Ephemeral : mode === CreateMode.Container ? NodeKind.Container : isTtlMode(mode) ? NodeKind.Ttl : NodeKind.Persistent;
  return {
    type: 'create',
    path: request.path,
    sequentialPrefix: sequential ? request.path : '',
    data: request.data,
    acl,
    kind,
    ephemeralOwner: kind === NodeKind.Ephemeral ? session.id : 0,
    ttlMs: kind === NodeKind.Ttl ? ttlMs : 0,
  };
}

function staticSetDataError(tree: DataTree, path: string, data: NodeData, version: number): FailureCode | null {
  if (!isValidPath(path, tree.options.maxPathBytes) || !isVersion(version)) return ErrorCode.BadArguments;
  // null is ZooKeeper's null buffer: stored as null, read back as null.
  if (data !== null && (!(data instanceof Uint8Array) || data.length > tree.options.maxDataBytes)) return ErrorCode.BadArguments;
  return null;
}

/** Versions are 32-bit signed ints in ZooKeeper; -1 is the wildcard, any other value compares. */
function isVersion(version: number): boolean {
  return Number.isInteger(version) && version >= -0x8000_0000 && version <= 0x7fff_ffff;
}

function isSessionId(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 0;
}

function ok(txn: Txn): Prepared {
  return { error: 0, txn };
}

function failed(error: FailureCode): Prepared {
  return { error };
}
