// ZooKeeper's client records (zookeeper.jute) <-> the server's request and response
// shapes (src/protocol/types.ts). Requests decode into the same ClientRequest the
// WebSocket door produces; replies encode from the same ClientResponse. Jute replies
// carry no type tag, so each request leaves a ReplyShape (its opcode, and its ops'
// opcodes for a multi) that says which record its answer is written as.
import {
  type Acl,
  type AddWatchModeNumber,
  type ClientRequest,
  type ClientResponse,
  type CreateModeNumber,
  type OpResult,
  type ReadOp,
  type Stat,
  type WatcherTypeNumber,
  type WriteOp,
  CreateMode,
  DEFAULT_DECODE_LIMITS,
  ErrorCode,
} from '../protocol/index.js';
import { JuteError, JuteReader, JuteWriter } from './jute.js';

/** ZooKeeper's opcodes (ZooDefs.OpCode). */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

/** Reserved xids (ClientCnxn): events, pings, auth packets, setWatches. */
export const Xid = { notification: -1, ping: -2, auth: -4, setWatches: -8 } as const;

/** ZooKeeper's KeeperState.SyncConnected: the state every watch event carries. */
const SYNC_CONNECTED = 3;

/** What a request's reply is written as. */
export interface ReplyShape {
  readonly opCode: number;
  /** For multi and multiRead: each op's opcode, in order. */
  readonly subOps?: readonly number[];
}

export interface ConnectRequest {
  readonly protocolVersion: number;
  readonly lastZxidSeen: number;
  readonly timeoutMs: number;
  readonly sessionId: number;
  readonly password: Uint8Array;
  /** Null when the client is older than 3.4 and sent no readOnly byte (its reply then has none either). */
  readonly readOnly: boolean | null;
}

/**
 * One decoded request packet. `request` is what the server core runs; without it the
 * front door answers by itself with `error` (an op zook does not run, or a body that
 * did not decode), in order with the other replies.
 */
export type ZkPacket =
  | { readonly xid: number; readonly shape: ReplyShape; readonly request: ClientRequest }
  | { readonly xid: number; readonly shape: ReplyShape; readonly request?: undefined; readonly checkWatches: { readonly path: string; readonly watcherType: WatcherTypeNumber } }
  | { readonly xid: number; readonly shape: ReplyShape; readonly request?: undefined; readonly checkWatches?: undefined; readonly error: number; readonly reason: string };

export interface ZkDecodeLimits {
  readonly maxMultiOps: number;
  readonly maxAclEntries: number;
  readonly maxWatchPaths: number;
}

export const DEFAULT_ZK_DECODE_LIMITS: ZkDecodeLimits = {
  maxMultiOps: DEFAULT_DECODE_LIMITS.maxMultiOps,
  maxAclEntries: DEFAULT_DECODE_LIMITS.maxAclEntries,
  maxWatchPaths: DEFAULT_DECODE_LIMITS.maxWatchPaths,
};

export function decodeConnectRequest(bytes: Uint8Array): ConnectRequest {
  const r = new JuteReader(bytes);
  const protocolVersion = r.int('protocolVersion');
  const lastZxidSeen = r.long('lastZxidSeen');
  const timeoutMs = r.int('timeOut');
  const sessionId = r.long('sessionId');
  const password = r.buffer('passwd') ?? new Uint8Array(0);
  const readOnly = r.remaining > 0 ? r.bool('readOnly') : null;
  r.end('ConnectRequest');
  return { protocolVersion, lastZxidSeen, timeoutMs, sessionId, password, readOnly };
}

function path(r: JuteReader, what = 'path'): string {
  const p = r.ustring(what);
  if (p === null) throw new JuteError(`${what} is null`);
  return p;
}

/** A create's or setData's data: null stays null (length -1), as ZooKeeper stores and answers it. */
function data(r: JuteReader): Uint8Array | null {
  return r.buffer('data');
}

function acl(r: JuteReader, limits: ZkDecodeLimits): Acl[] {
  const n = r.vectorLength('acl', limits.maxAclEntries) ?? 0;
  const out: Acl[] = [];
  for (let i = 0; i < n; i++) {
    const perms = r.int('acl perms');
    const scheme = r.ustring('acl scheme') ?? '';
    const id = r.ustring('acl id') ?? '';
    out.push({ perms, scheme, id });
  }
  return out;
}

function createMode(flags: number): CreateModeNumber {
  // The tree refuses a mode it does not know; an out-of-range flag is a client bug.
  if (!Number.isInteger(flags) || flags < 0 || flags > 6) throw new JuteError(`create flags ${flags} name no CreateMode`);
  return flags as CreateModeNumber;
}

/**
 * The kind of node is ZooKeeper's opcode's to say, not the flags' (PrepRequestProcessor
 * writes a CreateContainerTxn for createContainer and a CreateTxn, ephemeral or not,
 * for create and create2): createContainer makes a container whatever its flags (a
 * sequential flag still numbers it, and zook has no sequential container, so that
 * stays a persistent sequential node), and create/create2 with the CONTAINER flag make
 * a plain persistent node.
 */
function modeFor(opCode: number, mode: CreateModeNumber): CreateModeNumber {
  if (opCode === OpCode.createContainer) {
    if (mode === CreateMode.PERSISTENT || mode === CreateMode.EPHEMERAL) return CreateMode.CONTAINER;
    if (mode === CreateMode.EPHEMERAL_SEQUENTIAL) return CreateMode.PERSISTENT_SEQUENTIAL;
    return mode;
  }
  if (opCode !== OpCode.createTTL && mode === CreateMode.CONTAINER) return CreateMode.PERSISTENT;
  return mode;
}

/** A request that decoded but that ZooKeeper refuses before it reaches the tree: answered with `code` by the door. */
class Refused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function createOp(r: JuteReader, opCode: number, limits: ZkDecodeLimits): WriteOp {
  const p = path(r);
  const d = data(r);
  const a = acl(r, limits);
  const mode = modeFor(opCode, createMode(r.int('flags')));
  const ttlMs = opCode === OpCode.createTTL ? r.long('ttl') : 0;
  // ZooKeeper's EphemeralType.validateTTL, its first check of a create: a ttl with a mode
  // that is not TTL is BadArguments. (In a multi this answers the whole multi, where
  // ZooKeeper would answer per op; its clients throw the same code either way.)
  if (opCode === OpCode.createTTL && mode !== CreateMode.PERSISTENT_WITH_TTL && mode !== CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL) {
    throw new Refused(ErrorCode.BadArguments, `createTTL with create mode ${mode}, which is not a TTL mode`);
  }
  // create answers with the path alone; create2, createContainer and createTTL with path and Stat.
  return { op: 'create', path: p, data: d, acl: a, mode, ttlMs, returnStat: opCode !== OpCode.create };
}

function writeOp(r: JuteReader, opCode: number, limits: ZkDecodeLimits): WriteOp | null {
  switch (opCode) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return createOp(r, opCode, limits);
    case OpCode.delete:
      return { op: 'delete', path: path(r), version: r.int('version') };
    case OpCode.setData: {
      const p = path(r);
      return { op: 'setData', path: p, data: data(r), version: r.int('version') };
    }
    case OpCode.check:
      return { op: 'check', path: path(r), version: r.int('version') };
    default:
      return null;
  }
}

function readOp(r: JuteReader, opCode: number): ReadOp | null {
  switch (opCode) {
    case OpCode.getData:
      return { op: 'getData', path: path(r), watch: r.bool('watch') };
    case OpCode.getChildren:
      return { op: 'getChildren', path: path(r), watch: r.bool('watch'), withStat: false, after: '', limit: 0 };
    default:
      return null;
  }
}

/** multi and multiRead bodies: MultiHeader{type, done, err} + op, until a header with done set. */
function multiOps<T>(r: JuteReader, limits: ZkDecodeLimits, decodeOp: (opCode: number) => T | null, what: string): { ops: T[]; subOps: number[] } {
  const ops: T[] = [];
  const subOps: number[] = [];
  for (;;) {
    const type = r.int('MultiHeader type');
    const done = r.bool('MultiHeader done');
    r.int('MultiHeader err');
    if (done) break;
    if (ops.length >= limits.maxMultiOps) throw new JuteError(`${what} holds more than ${limits.maxMultiOps} ops`);
    const op = decodeOp(type);
    if (op === null) throw new JuteError(`${what}: op type ${type} cannot be part of it`);
    ops.push(op);
    subOps.push(type);
  }
  return { ops, subOps };
}

function watcherType(t: number): WatcherTypeNumber {
  if (t !== 1 && t !== 2 && t !== 3) throw new JuteError(`watcher type ${t} is not Children (1), Data (2) or Any (3)`);
  return t;
}

function setWatches(r: JuteReader, withPersistent: boolean, limits: ZkDecodeLimits): ClientRequest {
  const relativeZxid = r.long('relativeZxid');
  let budget = limits.maxWatchPaths;
  const list = (what: string): string[] => {
    const paths = r.stringVector(what, budget) ?? [];
    budget -= paths.length;
    return paths;
  };
  const dataWatches = list('dataWatches');
  const existWatches = list('existWatches');
  const childWatches = list('childWatches');
  const persistentWatches = withPersistent ? list('persistentWatches') : [];
  const persistentRecursiveWatches = withPersistent ? list('persistentRecursiveWatches') : [];
  return { op: 'setWatches', relativeZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches };
}

/** The request a body holds, or null for an opcode zook answers with an error of its own. */
function decodeBody(r: JuteReader, opCode: number, limits: ZkDecodeLimits): { request: ClientRequest; subOps?: number[] } | null {
  switch (opCode) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
    case OpCode.delete:
    case OpCode.setData:
      // Never a check: that opcode is answered as unsupported above.
      return { request: writeOp(r, opCode, limits) as Exclude<WriteOp, { op: 'check' }> };
    case OpCode.exists:
      return { request: { op: 'exists', path: path(r), watch: r.bool('watch') } };
    case OpCode.getData:
    case OpCode.getChildren:
      return { request: readOp(r, opCode)! };
    case OpCode.getChildren2:
      return { request: { op: 'getChildren', path: path(r), watch: r.bool('watch'), withStat: true, after: '', limit: 0 } };
    case OpCode.getACL:
      return { request: { op: 'getACL', path: path(r) } };
    case OpCode.setACL: {
      const p = path(r);
      const a = acl(r, limits);
      return { request: { op: 'setACL', path: p, acl: a, version: r.int('version') } };
    }
    case OpCode.sync:
      return { request: { op: 'sync', path: path(r) } };
    case OpCode.ping:
      return { request: { op: 'ping' } };
    case OpCode.multi: {
      const { ops, subOps } = multiOps(r, limits, (t) => writeOp(r, t, limits), 'multi');
      return { request: { op: 'multi', ops }, subOps };
    }
    case OpCode.multiRead: {
      const { ops, subOps } = multiOps(r, limits, (t) => readOp(r, t), 'multiRead');
      return { request: { op: 'multiRead', ops }, subOps };
    }
    case OpCode.auth: {
      r.int('auth type');
      const scheme = r.ustring('scheme') ?? '';
      return { request: { op: 'addAuth', scheme, auth: r.buffer('auth') ?? new Uint8Array(0) } };
    }
    case OpCode.setWatches:
      return { request: setWatches(r, false, limits) };
    case OpCode.setWatches2:
      return { request: setWatches(r, true, limits) };
    case OpCode.getEphemerals:
      return { request: { op: 'getEphemerals', prefix: r.ustring('prefixPath') ?? '' } };
    case OpCode.getAllChildrenNumber:
      return { request: { op: 'getAllChildrenNumber', path: path(r) } };
    case OpCode.addWatch: {
      const p = path(r);
      const mode = r.int('mode');
      if (mode !== 0 && mode !== 1) throw new JuteError(`addWatch mode ${mode} is not PERSISTENT (0) or PERSISTENT_RECURSIVE (1)`);
      return { request: { op: 'addWatch', path: p, mode: mode as AddWatchModeNumber } };
    }
    case OpCode.removeWatches: {
      const p = path(r);
      return { request: { op: 'removeWatches', path: p, watcherType: watcherType(r.int('type')) } };
    }
    case OpCode.whoAmI:
      return { request: { op: 'whoAmI' } };
    case OpCode.closeSession:
      return { request: { op: 'closeSession' } };
    default:
      return null;
  }
}

/** Why zook answers an opcode itself, and with which code. */
function unsupported(opCode: number): { error: number; reason: string } {
  switch (opCode) {
    case OpCode.reconfig:
      return { error: ErrorCode.ReconfigDisabled, reason: 'reconfig is not supported: change membership with `zook admin add-voter|add-learner|remove`' };
    case OpCode.sasl:
      return { error: ErrorCode.AuthFailed, reason: 'SASL is not supported: use digest auth' };
    case OpCode.check:
      return { error: ErrorCode.Unimplemented, reason: 'a check outside a multi is not supported' };
    default:
      return { error: ErrorCode.Unimplemented, reason: `opcode ${opCode} is not supported` };
  }
}

/** A request packet: RequestHeader{xid, type} then the body. Throws JuteError only if the header itself is cut. */
export function decodeRequestPacket(bytes: Uint8Array, limits: ZkDecodeLimits = DEFAULT_ZK_DECODE_LIMITS): ZkPacket {
  const r = new JuteReader(bytes, limits.maxWatchPaths);
  const xid = r.int('xid');
  const opCode = r.int('type');
  try {
    if (opCode === OpCode.checkWatches) {
      // Answered by the front door from the watch registry when its turn comes (no protocol request of its own).
      const p = path(r);
      const check = { path: p, watcherType: watcherType(r.int('type')) };
      r.end('CheckWatchesRequest');
      return { xid, shape: { opCode }, checkWatches: check };
    }
    const decoded = decodeBody(r, opCode, limits);
    if (decoded === null) return { xid, shape: { opCode }, ...unsupported(opCode) };
    r.end(`request of type ${opCode}`);
    const shape: ReplyShape = decoded.subOps === undefined ? { opCode } : { opCode, subOps: decoded.subOps };
    return { xid, shape, request: decoded.request };
  } catch (error) {
    // The frame's length was right, so the stream is still in step: answer this one, keep the connection.
    if (error instanceof JuteError) return { xid, shape: { opCode }, error: ErrorCode.MarshallingError, reason: error.message };
    if (error instanceof Refused) return { xid, shape: { opCode }, error: error.code, reason: error.message };
    throw error;
  }
}

// ---- replies ----

function stat(w: JuteWriter, s: Stat): void {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime);
  w.int(s.version).int(s.cversion).int(s.aversion);
  w.long(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid);
}

function aclList(w: JuteWriter, list: readonly Acl[]): void {
  w.int(list.length);
  for (const a of list) w.int(a.perms).ustring(a.scheme).ustring(a.id);
}

function multiHeader(w: JuteWriter, type: number, done: boolean, err: number): void {
  w.int(type).bool(done).int(err);
}

/** One op's result inside a MultiResponse, as ZooKeeper's MultiResponse.serialize writes it. */
function multiResult(w: JuteWriter, opCode: number, result: OpResult): void {
  const response = result.response;
  if (result.error !== 0 || response === undefined) {
    multiHeader(w, OpCode.error, false, result.error);
    w.int(result.error);
    return;
  }
  switch (opCode) {
    case OpCode.create:
      multiHeader(w, OpCode.create, false, 0);
      w.ustring(response.kind === 'create' ? response.path : '');
      return;
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      multiHeader(w, OpCode.create2, false, 0);
      w.ustring(response.kind === 'create' ? response.path : '');
      if (response.kind === 'create' && response.stat !== undefined) stat(w, response.stat);
      return;
    case OpCode.setData:
      multiHeader(w, OpCode.setData, false, 0);
      if (response.kind === 'stat') stat(w, response.stat);
      return;
    case OpCode.getData:
      multiHeader(w, OpCode.getData, false, 0);
      if (response.kind === 'data') {
        w.buffer(response.data);
        stat(w, response.stat);
      }
      return;
    case OpCode.getChildren:
      multiHeader(w, OpCode.getChildren, false, 0);
      w.stringVector(response.kind === 'children' ? response.children : []);
      return;
    default:
      // delete and check: a header alone.
      multiHeader(w, opCode, false, 0);
  }
}

/** The reply body for a successful request of `shape`. */
function body(w: JuteWriter, shape: ReplyShape, response: ClientResponse): void {
  switch (response.kind) {
    case 'create':
      w.ustring(response.path);
      if (shape.opCode !== OpCode.create && response.stat !== undefined) stat(w, response.stat);
      return;
    case 'stat':
      stat(w, response.stat);
      return;
    case 'data':
      w.buffer(response.data);
      stat(w, response.stat);
      return;
    case 'children':
      w.stringVector(response.children);
      if (shape.opCode === OpCode.getChildren2 && response.stat !== undefined) stat(w, response.stat);
      return;
    case 'count':
      w.int(response.count);
      return;
    case 'paths':
      w.stringVector(response.paths);
      return;
    case 'acl':
      aclList(w, response.acl);
      stat(w, response.stat);
      return;
    case 'sync':
      w.ustring(response.path);
      return;
    case 'whoAmI':
      // ClientInfo{authScheme, user}: the user name, as ZooKeeper's providers give it
      // (a digest id "user:hash" names the user "user"; an ip id is its address).
      w.int(response.ids.length);
      for (const id of response.ids) w.ustring(id.scheme).ustring(id.scheme === 'digest' ? id.id.slice(0, id.id.indexOf(':') >>> 0) : id.id);
      return;
    case 'multi': {
      const subOps = shape.subOps ?? [];
      response.results.forEach((result, i) => multiResult(w, subOps[i] ?? OpCode.error, result));
      multiHeader(w, -1, true, -1);
      return;
    }
    case 'empty':
      // addWatch answers with an ErrorResponse(0) (FinalRequestProcessor); the others with a header alone.
      if (shape.opCode === OpCode.addWatch) w.int(0);
      return;
  }
}

// The encoders below return a view into the writer (frameView): valid until its next
// begin(). The connection copies it into its outgoing bytes at once.

/** ReplyHeader{xid, zxid, err} and, on success (or for a failed multi's results), the body. */
export function encodeReply(w: JuteWriter, xid: number, zxid: number, error: number, shape: ReplyShape, response?: ClientResponse): Uint8Array {
  w.begin();
  // A failed multi is answered with err 0 in the header and the outcome per op (as ZooKeeper does).
  const failedMulti = error !== 0 && response?.kind === 'multi';
  w.int(xid).long(zxid).int(failedMulti ? 0 : error);
  if (response !== undefined && (error === 0 || failedMulti)) body(w, shape, response);
  return w.frameView();
}

export function encodeConnectResponse(w: JuteWriter, timeoutMs: number, sessionId: number, password: Uint8Array, readOnly: boolean | null): Uint8Array {
  w.begin().int(0).int(timeoutMs).long(sessionId).buffer(password);
  if (readOnly !== null) w.bool(false);
  return w.frameView();
}

/** A watch notification: ReplyHeader{-1, zxid, 0} + WatcherEvent{type, SyncConnected, path}. */
export function encodeWatcherEvent(w: JuteWriter, type: number, path: string, zxid: number): Uint8Array {
  return w.begin().int(Xid.notification).long(zxid).int(0).int(type).int(SYNC_CONNECTED).ustring(path).frameView();
}
