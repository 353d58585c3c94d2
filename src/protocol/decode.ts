// FlatBuffers frames -> plain protocol values, for bytes from an untrusted peer.
// The FlatBuffers TypeScript runtime has no verifier, and reading a damaged buffer
// gives garbage rather than an error, so every length is bounded here, every enum
// and union tag checked, and any throw from the runtime becomes a ProtocolError.
// Byte fields are copied out: the frame's buffer (uWebSockets.js's message) does
// not outlive the callback that decodes it.
import * as flatbuffers from 'flatbuffers';
import * as fb from '../../schema/generated/client_generated.js';
import { ErrorCode } from './error-codes.js';
import type {
  Acl,
  AddWatchModeNumber,
  AuthInfo,
  ClientFrame,
  ClientRequest,
  ClientResponse,
  CreateModeNumber,
  CreateOp,
  Id,
  OpResult,
  ReadOp,
  ServerFrame,
  Stat,
  WatcherTypeNumber,
  WriteOp,
} from './types.js';

/** A frame that cannot be decoded: `code` is the ZooKeeper error to report. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface DecodeLimits {
  /** Ops in one multi or multiRead. */
  readonly maxMultiOps: number;
  /** Entries in one ACL. */
  readonly maxAclEntries: number;
  /** Auth entries in one connect. */
  readonly maxAuthEntries: number;
  /** Paths in one setWatches (all five lists together). */
  readonly maxWatchPaths: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxMultiOps: 1000,
  maxAclEntries: 64,
  maxAuthEntries: 16,
  maxWatchPaths: 100_000,
};

const bad = (message: string): ProtocolError => new ProtocolError(ErrorCode.BadArguments, message);
const malformed = (message: string): ProtocolError => new ProtocolError(ErrorCode.MarshallingError, message);

/** Smallest encoded frame: root offset plus a table's vtable offset. */
const MIN_FRAME_BYTES = 8;

class Reader {
  constructor(
    readonly bb: flatbuffers.ByteBuffer,
    readonly limits: DecodeLimits,
  ) {}

  /** A vector length, bounded by `max` and by what the frame could hold (4+ bytes an entry). */
  count(length: number, max: number, what: string): number {
    if (!Number.isInteger(length) || length < 0) throw malformed(`bad ${what} length`);
    if (length > max) throw bad(`too many ${what}: ${length} > ${max}`);
    if (length * 4 > this.bb.capacity()) throw malformed(`${what} length ${length} runs past the frame`);
    return length;
  }

  string(value: string | null): string {
    return value ?? '';
  }

  bytes(view: Uint8Array | null): Uint8Array {
    return view === null ? new Uint8Array(0) : view.slice();
  }

  safe(value: bigint, what: string): number {
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${what} out of range`);
    return Number(value);
  }

  nonNegative(value: bigint, what: string): number {
    const n = this.safe(value, what);
    if (n < 0) throw bad(`${what} must not be negative`);
    return n;
  }

  acl(length: number, at: (i: number) => fb.Acl | null): Acl[] {
    const n = this.count(length, this.limits.maxAclEntries, 'ACL entries');
    const out: Acl[] = [];
    for (let i = 0; i < n; i++) {
      const a = at(i);
      if (a === null) throw malformed('missing ACL entry');
      out.push({ perms: a.perms(), scheme: this.string(a.scheme()), id: this.string(a.id()) });
    }
    return out;
  }

  strings(length: number, max: number, what: string, at: (i: number) => string | null): string[] {
    const n = this.count(length, max, what);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string(at(i)));
    return out;
  }

  stat(s: fb.Stat | null): Stat {
    if (s === null) throw malformed('missing Stat');
    return {
      czxid: this.safe(s.czxid(), 'czxid'),
      mzxid: this.safe(s.mzxid(), 'mzxid'),
      pzxid: this.safe(s.pzxid(), 'pzxid'),
      ctime: this.safe(s.ctime(), 'ctime'),
      mtime: this.safe(s.mtime(), 'mtime'),
      version: s.version(),
      cversion: s.cversion(),
      aversion: s.aversion(),
      ephemeralOwner: this.safe(s.ephemeralOwner(), 'ephemeralOwner'),
      dataLength: s.dataLength(),
      numChildren: s.numChildren(),
    };
  }
}

function createMode(mode: number): CreateModeNumber {
  if (!Number.isInteger(mode) || mode < 0 || mode > 6) throw bad(`unknown create mode ${mode}`);
  return mode as CreateModeNumber;
}

function table<T>(value: T | null, what: string): T {
  if (value === null) throw malformed(`missing ${what}`);
  return value;
}

function createOp(r: Reader, c: fb.CreateRequest): CreateOp {
  return {
    op: 'create',
    path: r.string(c.path()),
    data: r.bytes(c.dataArray()),
    acl: r.acl(c.aclLength(), (i) => c.acl(i)),
    mode: createMode(c.mode()),
    ttlMs: r.nonNegative(c.ttlMs(), 'ttl'),
    returnStat: c.returnStat(),
  };
}

function getChildrenOp(r: Reader, g: fb.GetChildrenRequest): ReadOp {
  return { op: 'getChildren', path: r.string(g.path()), watch: g.watch(), withStat: g.withStat(), after: r.string(g.after()), limit: g.limit() };
}

function writeOp(r: Reader, entry: fb.WriteOpEntry): WriteOp {
  switch (entry.opType()) {
    case fb.WriteOp.CreateRequest:
      return createOp(r, table(entry.op(new fb.CreateRequest()) as fb.CreateRequest | null, 'create op'));
    case fb.WriteOp.DeleteRequest: {
      const d = table(entry.op(new fb.DeleteRequest()) as fb.DeleteRequest | null, 'delete op');
      return { op: 'delete', path: r.string(d.path()), version: d.version() };
    }
    case fb.WriteOp.SetDataRequest: {
      const s = table(entry.op(new fb.SetDataRequest()) as fb.SetDataRequest | null, 'setData op');
      return { op: 'setData', path: r.string(s.path()), data: r.bytes(s.dataArray()), version: s.version() };
    }
    case fb.WriteOp.CheckRequest: {
      const c = table(entry.op(new fb.CheckRequest()) as fb.CheckRequest | null, 'check op');
      return { op: 'check', path: r.string(c.path()), version: c.version() };
    }
    default:
      throw bad(`unknown multi op ${entry.opType()}`);
  }
}

function readOp(r: Reader, entry: fb.ReadOpEntry): ReadOp {
  switch (entry.opType()) {
    case fb.ReadOp.GetDataRequest: {
      const g = table(entry.op(new fb.GetDataRequest()) as fb.GetDataRequest | null, 'getData op');
      return { op: 'getData', path: r.string(g.path()), watch: g.watch() };
    }
    case fb.ReadOp.GetChildrenRequest:
      return getChildrenOp(r, table(entry.op(new fb.GetChildrenRequest()) as fb.GetChildrenRequest | null, 'getChildren op'));
    default:
      throw bad(`unknown multiRead op ${entry.opType()}`);
  }
}

function request(r: Reader, f: fb.RequestFrame): ClientRequest {
  const R = fb.Request;
  const get = <T>(make: () => T, what: string): T => table(f.request(make()) as T | null, what);
  switch (f.requestType()) {
    case R.CreateRequest:
      return createOp(r, get(() => new fb.CreateRequest(), 'create'));
    case R.DeleteRequest: {
      const d = get(() => new fb.DeleteRequest(), 'delete');
      return { op: 'delete', path: r.string(d.path()), version: d.version() };
    }
    case R.ExistsRequest: {
      const e = get(() => new fb.ExistsRequest(), 'exists');
      return { op: 'exists', path: r.string(e.path()), watch: e.watch() };
    }
    case R.GetDataRequest: {
      const g = get(() => new fb.GetDataRequest(), 'getData');
      return { op: 'getData', path: r.string(g.path()), watch: g.watch() };
    }
    case R.SetDataRequest: {
      const s = get(() => new fb.SetDataRequest(), 'setData');
      return { op: 'setData', path: r.string(s.path()), data: r.bytes(s.dataArray()), version: s.version() };
    }
    case R.GetChildrenRequest:
      return getChildrenOp(r, get(() => new fb.GetChildrenRequest(), 'getChildren'));
    case R.GetAllChildrenNumberRequest:
      return { op: 'getAllChildrenNumber', path: r.string(get(() => new fb.GetAllChildrenNumberRequest(), 'getAllChildrenNumber').path()) };
    case R.GetEphemeralsRequest:
      return { op: 'getEphemerals', prefix: r.string(get(() => new fb.GetEphemeralsRequest(), 'getEphemerals').prefix()) };
    case R.GetAclRequest:
      return { op: 'getACL', path: r.string(get(() => new fb.GetAclRequest(), 'getACL').path()) };
    case R.SetAclRequest: {
      const s = get(() => new fb.SetAclRequest(), 'setACL');
      return { op: 'setACL', path: r.string(s.path()), acl: r.acl(s.aclLength(), (i) => s.acl(i)), version: s.version() };
    }
    case R.SyncRequest:
      return { op: 'sync', path: r.string(get(() => new fb.SyncRequest(), 'sync').path()) };
    case R.MultiRequest: {
      const m = get(() => new fb.MultiRequest(), 'multi');
      const n = r.count(m.opsLength(), r.limits.maxMultiOps, 'multi ops');
      const ops: WriteOp[] = [];
      for (let i = 0; i < n; i++) ops.push(writeOp(r, table(m.ops(i), 'multi op entry')));
      return { op: 'multi', ops };
    }
    case R.MultiReadRequest: {
      const m = get(() => new fb.MultiReadRequest(), 'multiRead');
      const n = r.count(m.opsLength(), r.limits.maxMultiOps, 'multiRead ops');
      const ops: ReadOp[] = [];
      for (let i = 0; i < n; i++) ops.push(readOp(r, table(m.ops(i), 'multiRead op entry')));
      return { op: 'multiRead', ops };
    }
    case R.AddAuthRequest: {
      const a = get(() => new fb.AddAuthRequest(), 'addAuth');
      return { op: 'addAuth', scheme: r.string(a.scheme()), auth: r.bytes(a.authArray()) };
    }
    case R.AddWatchRequest: {
      const a = get(() => new fb.AddWatchRequest(), 'addWatch');
      const mode = a.mode();
      if (mode !== 0 && mode !== 1) throw bad(`unknown addWatch mode ${mode}`);
      const fromZxid = a.fromZxid();
      if (fromZxid < -1n) throw bad(`addWatch fromZxid ${fromZxid} is below -1`);
      const path = r.string(a.path());
      return fromZxid === -1n ? { op: 'addWatch', path, mode: mode as AddWatchModeNumber } : { op: 'addWatch', path, mode: mode as AddWatchModeNumber, fromZxid: r.safe(fromZxid, 'fromZxid') };
    }
    case R.RemoveWatchesRequest: {
      const w = get(() => new fb.RemoveWatchesRequest(), 'removeWatches');
      const type = w.type();
      if (type < 1 || type > 3) throw bad(`unknown watcher type ${type}`);
      return { op: 'removeWatches', path: r.string(w.path()), watcherType: type as WatcherTypeNumber };
    }
    case R.WhoAmIRequest:
      return { op: 'whoAmI' };
    case R.PingRequest:
      return { op: 'ping' };
    case R.CloseSessionRequest:
      return { op: 'closeSession' };
    case R.SetWatchesRequest: {
      const s = get(() => new fb.SetWatchesRequest(), 'setWatches');
      const total =
        s.dataWatchesLength() + s.existWatchesLength() + s.childWatchesLength() + s.persistentWatchesLength() + s.persistentRecursiveWatchesLength();
      r.count(total, r.limits.maxWatchPaths, 'watch paths');
      const max = r.limits.maxWatchPaths;
      return {
        op: 'setWatches',
        relativeZxid: r.safe(s.relativeZxid(), 'relativeZxid'),
        dataWatches: r.strings(s.dataWatchesLength(), max, 'watch paths', (i) => s.dataWatches(i)),
        existWatches: r.strings(s.existWatchesLength(), max, 'watch paths', (i) => s.existWatches(i)),
        childWatches: r.strings(s.childWatchesLength(), max, 'watch paths', (i) => s.childWatches(i)),
        persistentWatches: r.strings(s.persistentWatchesLength(), max, 'watch paths', (i) => s.persistentWatches(i)),
        persistentRecursiveWatches: r.strings(s.persistentRecursiveWatchesLength(), max, 'watch paths', (i) => s.persistentRecursiveWatches(i)),
      };
    }
    default:
      throw bad(`unknown request type ${f.requestType()}`);
  }
}

function frameOf(bytes: Uint8Array): flatbuffers.ByteBuffer {
  if (bytes.length < MIN_FRAME_BYTES) throw malformed(`frame of ${bytes.length} bytes is too short`);
  return new flatbuffers.ByteBuffer(bytes);
}

/** Runs a decode, turning anything the runtime throws on a damaged buffer into a ProtocolError. */
function guarded<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw malformed(`malformed frame: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Decodes what a client sent. Throws ProtocolError for anything malformed or over a limit. */
export function decodeClientFrame(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): ClientFrame {
  return guarded(() => {
    const bb = frameOf(bytes);
    const r = new Reader(bb, limits);
    const frame = fb.Frame.getRootAsFrame(bb);
    switch (frame.messageType()) {
      case fb.Message.ConnectRequest: {
        const c = table(frame.message(new fb.ConnectRequest()) as fb.ConnectRequest | null, 'connect');
        const n = r.count(c.authLength(), limits.maxAuthEntries, 'auth entries');
        const auth: AuthInfo[] = [];
        for (let i = 0; i < n; i++) {
          const a = table(c.auth(i), 'auth entry');
          auth.push({ scheme: r.string(a.scheme()), auth: r.bytes(a.authArray()) });
        }
        return {
          kind: 'connect',
          protocolVersion: c.protocolVersion(),
          sessionId: r.nonNegative(c.sessionId(), 'session id'),
          password: r.bytes(c.passwordArray()),
          sessionTimeoutMs: c.sessionTimeoutMs(),
          lastZxidSeen: r.nonNegative(c.lastZxidSeen(), 'last zxid seen'),
          auth,
        };
      }
      case fb.Message.RequestFrame: {
        const f = table(frame.message(new fb.RequestFrame()) as fb.RequestFrame | null, 'request');
        return { kind: 'request', xid: f.xid(), linearizable: f.linearizable(), request: request(r, f) };
      }
      default:
        throw bad(`a client may not send message type ${frame.messageType()}`);
    }
  });
}

function response(r: Reader, type: number, get: <T>(make: () => T) => T | null): ClientResponse | undefined {
  const R = fb.Response;
  const must = <T>(make: () => T, what: string): T => table(get(make), what);
  switch (type) {
    case R.NONE:
      return undefined;
    case R.CreateResponse: {
      const c = must(() => new fb.CreateResponse(), 'create response');
      const stat = c.stat();
      return stat === null ? { kind: 'create', path: r.string(c.path()) } : { kind: 'create', path: r.string(c.path()), stat: r.stat(stat) };
    }
    case R.StatResponse:
      return { kind: 'stat', stat: r.stat(must(() => new fb.StatResponse(), 'stat response').stat()) };
    case R.GetDataResponse: {
      const g = must(() => new fb.GetDataResponse(), 'data response');
      return { kind: 'data', data: r.bytes(g.dataArray()), stat: r.stat(g.stat()) };
    }
    case R.GetChildrenResponse: {
      const g = must(() => new fb.GetChildrenResponse(), 'children response');
      const children = r.strings(g.childrenLength(), Number.MAX_SAFE_INTEGER, 'children', (i) => g.children(i));
      const stat = g.stat();
      const next = g.nextAfter();
      return {
        kind: 'children',
        children,
        ...(stat === null ? {} : { stat: r.stat(stat) }),
        ...(next === null ? {} : { nextAfter: next }),
      };
    }
    case R.CountResponse:
      return { kind: 'count', count: r.safe(must(() => new fb.CountResponse(), 'count response').count(), 'count') };
    case R.PathsResponse: {
      const p = must(() => new fb.PathsResponse(), 'paths response');
      return { kind: 'paths', paths: r.strings(p.pathsLength(), Number.MAX_SAFE_INTEGER, 'paths', (i) => p.paths(i)) };
    }
    case R.GetAclResponse: {
      const a = must(() => new fb.GetAclResponse(), 'acl response');
      return { kind: 'acl', acl: r.acl(a.aclLength(), (i) => a.acl(i)), stat: r.stat(a.stat()) };
    }
    case R.SyncResponse:
      return { kind: 'sync', path: r.string(must(() => new fb.SyncResponse(), 'sync response').path()) };
    case R.EmptyResponse:
      return { kind: 'empty' };
    case R.WhoAmIResponse: {
      const w = must(() => new fb.WhoAmIResponse(), 'whoAmI response');
      const n = r.count(w.idsLength(), Number.MAX_SAFE_INTEGER, 'ids');
      const ids: Id[] = [];
      for (let i = 0; i < n; i++) {
        const id = table(w.ids(i), 'id');
        ids.push({ scheme: r.string(id.scheme()), id: r.string(id.id()) });
      }
      return { kind: 'whoAmI', ids };
    }
    case R.MultiResponse: {
      const m = must(() => new fb.MultiResponse(), 'multi response');
      const n = r.count(m.resultsLength(), r.limits.maxMultiOps, 'multi results');
      const results: OpResult[] = [];
      for (let i = 0; i < n; i++) {
        const result = table(m.results(i), 'multi result');
        const opType = OP_TO_RESPONSE.get(result.responseType());
        if (opType === undefined) throw bad(`unknown multi result type ${result.responseType()}`);
        const inner = response(r, opType, (make) => result.response(make()) as ReturnType<typeof make> | null);
        if (inner === undefined) {
          // In a failed multi the ops before the failing one report Ok with no result.
          results.push({ error: result.error() });
        } else {
          results.push({ error: 0, response: inner });
        }
      }
      return { kind: 'multi', results };
    }
    default:
      throw bad(`unknown response type ${type}`);
  }
}

const OP_TO_RESPONSE = new Map<number, number>([
  [fb.OpResponse.NONE, fb.Response.NONE],
  [fb.OpResponse.CreateResponse, fb.Response.CreateResponse],
  [fb.OpResponse.StatResponse, fb.Response.StatResponse],
  [fb.OpResponse.GetDataResponse, fb.Response.GetDataResponse],
  [fb.OpResponse.GetChildrenResponse, fb.Response.GetChildrenResponse],
  [fb.OpResponse.EmptyResponse, fb.Response.EmptyResponse],
]);

/** Decodes what a server sent. Throws ProtocolError for anything malformed. */
export function decodeServerFrame(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): ServerFrame {
  return guarded(() => {
    const bb = frameOf(bytes);
    const r = new Reader(bb, limits);
    const frame = fb.Frame.getRootAsFrame(bb);
    switch (frame.messageType()) {
      case fb.Message.ConnectResponse: {
        const c = table(frame.message(new fb.ConnectResponse()) as fb.ConnectResponse | null, 'connect response');
        return {
          kind: 'connected',
          protocolVersion: c.protocolVersion(),
          sessionId: r.nonNegative(c.sessionId(), 'session id'),
          password: r.bytes(c.passwordArray()),
          sessionTimeoutMs: c.sessionTimeoutMs(),
          serverId: c.serverId(),
          epoch: r.safe(c.epoch(), 'epoch'),
        };
      }
      case fb.Message.ReplyFrame: {
        const f = table(frame.message(new fb.ReplyFrame()) as fb.ReplyFrame | null, 'reply');
        const resp = response(r, f.responseType(), (make) => f.response(make()) as ReturnType<typeof make> | null);
        return { kind: 'reply', xid: f.xid(), zxid: r.safe(f.zxid(), 'zxid'), error: f.error(), ...(resp === undefined ? {} : { response: resp }) };
      }
      case fb.Message.WatchEvent: {
        const e = table(frame.message(new fb.WatchEvent()) as fb.WatchEvent | null, 'watch event');
        const forXid = e.forXid();
        return { kind: 'event', type: e.type(), path: r.string(e.path()), zxid: r.safe(e.zxid(), 'zxid'), ...(forXid === 0 ? {} : { forXid }) };
      }
      case fb.Message.CloseNotice: {
        const c = table(frame.message(new fb.CloseNotice()) as fb.CloseNotice | null, 'close notice');
        return { kind: 'close', error: c.error(), reason: r.string(c.reason()) };
      }
      default:
        throw bad(`a server may not send message type ${frame.messageType()}`);
    }
  });
}
