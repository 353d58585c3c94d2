// The shapes that cross the tree's boundary: Stat, requests (what a client asks),
// txns (what prepare decided; what the log carries), results (what apply returns).
import type { Acl, Id } from './acl.js';
import type { ErrorCode } from './errors.js';

/**
 * Session ids are non-negative safe integers (numbers), not 64-bit bigints as in
 * ZooKeeper: the server allocates them (e.g. from the Raft index of the
 * createSession entry), 2^53 is plenty, and numbers are smaller and faster in
 * every map and node. 0 means "no session" (ephemeralOwner of a non-ephemeral).
 */
export type SessionId = number;
/** Opaque, monotonic in log order, non-negative safe integer (the Raft index). */
export type Zxid = number;

/**
 * A znode's data: bytes, or null. ZooKeeper's jute buffers can be null (length -1):
 * a node created or set with null data keeps null and getData answers null, apart
 * from empty bytes; both have dataLength 0.
 */
export type NodeData = Uint8Array | null;

export interface Stat {
  readonly czxid: Zxid;
  readonly mzxid: Zxid;
  readonly pzxid: Zxid;
  readonly ctime: number;
  readonly mtime: number;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: SessionId;
  readonly dataLength: number;
  readonly numChildren: number;
}

/** ZooKeeper's CreateMode numbers. */
export const CreateMode = {
  Persistent: 0,
  Ephemeral: 1,
  PersistentSequential: 2,
  EphemeralSequential: 3,
  Container: 4,
  PersistentWithTtl: 5,
  PersistentSequentialWithTtl: 6,
} as const;
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];

export function isSequentialMode(mode: CreateMode): boolean {
  return mode === CreateMode.PersistentSequential || mode === CreateMode.EphemeralSequential || mode === CreateMode.PersistentSequentialWithTtl;
}
export function isEphemeralMode(mode: CreateMode): boolean {
  return mode === CreateMode.Ephemeral || mode === CreateMode.EphemeralSequential;
}
export function isTtlMode(mode: CreateMode): boolean {
  return mode === CreateMode.PersistentWithTtl || mode === CreateMode.PersistentSequentialWithTtl;
}

/** What kind of node a znode is, as stored (sequential-ness is only in its name). */
export const NodeKind = {
  Persistent: 0,
  Ephemeral: 1,
  Container: 2,
  Ttl: 3,
} as const;
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

// ---------------------------------------------------------------------------
// Requests (leader input to prepare)

export interface CreateRequest {
  readonly type: 'create';
  readonly path: string;
  readonly data: NodeData;
  readonly acl: readonly Acl[];
  readonly mode: CreateMode;
  /** Only for the TTL modes: ms without modification (and with no children) after which the node goes. */
  readonly ttlMs?: number;
}
export interface DeleteRequest {
  readonly type: 'delete';
  readonly path: string;
  /** -1 matches any version; every other value must equal the node's version. */
  readonly version: number;
}
export interface SetDataRequest {
  readonly type: 'setData';
  readonly path: string;
  readonly data: NodeData;
  readonly version: number;
}
export interface SetAclRequest {
  readonly type: 'setACL';
  readonly path: string;
  readonly acl: readonly Acl[];
  /** Compared with aversion; -1 matches any. */
  readonly version: number;
}
export interface CheckRequest {
  readonly type: 'check';
  readonly path: string;
  readonly version: number;
}
export type MultiOpRequest = CreateRequest | DeleteRequest | SetDataRequest | CheckRequest;
export interface MultiRequest {
  readonly type: 'multi';
  readonly ops: readonly MultiOpRequest[];
}
export interface SyncRequest {
  readonly type: 'sync';
  readonly path: string;
}
export interface CreateSessionRequest {
  readonly type: 'createSession';
  readonly sessionId: SessionId;
  readonly timeoutMs: number;
}
export interface CloseSessionRequest {
  readonly type: 'closeSession';
  readonly sessionId: SessionId;
}
export type WriteRequest =
  | CreateRequest
  | DeleteRequest
  | SetDataRequest
  | SetAclRequest
  | MultiRequest
  | SyncRequest
  | CreateSessionRequest
  | CloseSessionRequest;

/** The session a request comes from, as the server knows it. */
export interface RequestSession {
  readonly id: SessionId;
  /** Authenticated ids (digest from addAuth) and the client's address as an ip id. */
  readonly authIds: readonly Id[];
}

// ---------------------------------------------------------------------------
// Txns (deterministic, self-contained changes; the log's payload)

export interface CreateTxn {
  readonly type: 'create';
  /**
   * The full path. For a sequential create it is the name prepare predicted; apply
   * recomputes the suffix from the parent's counter at apply time (the same on every
   * replica), so two sequential creates prepared against the same state both succeed.
   */
  readonly path: string;
  /** For a sequential create, the requested path without suffix; otherwise "". */
  readonly sequentialPrefix: string;
  readonly data: NodeData;
  readonly acl: readonly Acl[];
  readonly kind: NodeKind;
  /** Owner session for an ephemeral, else 0. */
  readonly ephemeralOwner: SessionId;
  /** TTL for kind Ttl, else 0. */
  readonly ttlMs: number;
}
export interface DeleteTxn {
  readonly type: 'delete';
  readonly path: string;
  readonly version: number;
}
export interface SetDataTxn {
  readonly type: 'setData';
  readonly path: string;
  readonly data: NodeData;
  readonly version: number;
}
export interface SetAclTxn {
  readonly type: 'setACL';
  readonly path: string;
  readonly acl: readonly Acl[];
  readonly version: number;
}
export interface CheckTxn {
  readonly type: 'check';
  readonly path: string;
  readonly version: number;
}
export type MultiOpTxn = CreateTxn | DeleteTxn | SetDataTxn | CheckTxn;

/** Ops that apply one at a time (the single-op txns and a multi's parts). */
export type OpTxn = CreateTxn | DeleteTxn | SetDataTxn | SetAclTxn | CheckTxn;

export interface MultiTxn {
  readonly type: 'multi';
  readonly ops: readonly MultiOpTxn[];
}
export interface SyncTxn {
  readonly type: 'sync';
  readonly path: string;
}
export interface CreateSessionTxn {
  readonly type: 'createSession';
  readonly sessionId: SessionId;
  readonly timeoutMs: number;
}
export interface CloseSessionTxn {
  readonly type: 'closeSession';
  readonly sessionId: SessionId;
}

/**
 * Every txn carries the leader's clock at prepare time (apply never reads a clock)
 * and, for a client's write, the session's auth ids: apply re-checks ACLs with them,
 * since a setACL committed in between may have revoked the right. System txns (the
 * expiry deletes of findExpired) carry none and skip ACL checks.
 */
export type Txn = (
  | CreateTxn
  | DeleteTxn
  | SetDataTxn
  | SetAclTxn
  | MultiTxn
  | SyncTxn
  | CreateSessionTxn
  | CloseSessionTxn
) & { readonly timeMs: number; readonly authIds?: readonly Id[] };

// ---------------------------------------------------------------------------
// Results

export interface CreateResult {
  readonly type: 'create';
  readonly path: string;
  readonly stat: Stat;
}
export interface DeleteResult {
  readonly type: 'delete';
}
export interface SetDataResult {
  readonly type: 'setData';
  readonly stat: Stat;
}
export interface SetAclResult {
  readonly type: 'setACL';
  readonly stat: Stat;
}
export interface CheckResult {
  readonly type: 'check';
}
/** A multi op's outcome: its result, or the error (ZooKeeper's ErrorResult). */
export type MultiOpResult = CreateResult | DeleteResult | SetDataResult | CheckResult | { readonly type: 'error'; readonly error: ErrorCode };
export interface MultiResult {
  readonly type: 'multi';
  readonly results: readonly MultiOpResult[];
}
export interface SyncResult {
  readonly type: 'sync';
  readonly path: string;
}
export interface SessionResult {
  readonly type: 'createSession' | 'closeSession';
  readonly sessionId: SessionId;
}
export type TxnResult = CreateResult | DeleteResult | SetDataResult | SetAclResult | CheckResult | MultiResult | SyncResult | SessionResult;
