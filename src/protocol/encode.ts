// Plain protocol values -> FlatBuffers frames (schema/client.fbs). The only place,
// with decode.ts, that knows the wire layout.
import * as flatbuffers from 'flatbuffers';
import * as fb from '../../schema/generated/client_generated.js';
import type { Acl, AuthInfo, ClientFrame, ClientRequest, ClientResponse, Id, OpResult, ReadOp, ServerFrame, Stat, WriteOp } from './types.js';

type Builder = flatbuffers.Builder;
type Offset = flatbuffers.Offset;

const big = (n: number): bigint => BigInt(n);
const NO_BYTES = new Uint8Array(0);
// Byte vectors (data, auth, passwords) go in with createByteVector: one copy, where the
// generated create*Vector helpers add one byte at a time (a 1 MiB value: 1 Mi calls).

function strings(b: Builder, values: readonly string[]): Offset[] {
  return values.map((v) => b.createString(v));
}

function acls(b: Builder, list: readonly Acl[]): Offset[] {
  return list.map((a) => fb.Acl.createAcl(b, a.perms, b.createString(a.scheme), b.createString(a.id)));
}

function addStat(b: Builder, stat: Stat): Offset {
  return fb.Stat.createStat(
    b,
    big(stat.czxid),
    big(stat.mzxid),
    big(stat.pzxid),
    big(stat.ctime),
    big(stat.mtime),
    stat.version,
    stat.cversion,
    stat.aversion,
    stat.dataLength,
    big(stat.ephemeralOwner),
    stat.numChildren,
  );
}

function writeOp(b: Builder, op: WriteOp): [fb.WriteOp, Offset] {
  switch (op.op) {
    case 'create':
      return [fb.WriteOp.CreateRequest, create(b, op)];
    case 'delete':
      return [fb.WriteOp.DeleteRequest, fb.DeleteRequest.createDeleteRequest(b, b.createString(op.path), op.version)];
    case 'setData':
      return [fb.WriteOp.SetDataRequest, setData(b, op)];
    case 'check':
      return [fb.WriteOp.CheckRequest, fb.CheckRequest.createCheckRequest(b, b.createString(op.path), op.version)];
  }
}

function readOp(b: Builder, op: ReadOp): [fb.ReadOp, Offset] {
  if (op.op === 'getData') return [fb.ReadOp.GetDataRequest, fb.GetDataRequest.createGetDataRequest(b, b.createString(op.path), op.watch)];
  return [fb.ReadOp.GetChildrenRequest, getChildren(b, op)];
}

function create(b: Builder, op: Extract<ClientRequest, { op: 'create' }>): Offset {
  const path = b.createString(op.path);
  const data = b.createByteVector(op.data ?? NO_BYTES);
  const acl = fb.CreateRequest.createAclVector(b, acls(b, op.acl));
  return fb.CreateRequest.createCreateRequest(b, path, data, acl, op.mode, big(op.ttlMs), op.returnStat);
}

function setData(b: Builder, op: Extract<ClientRequest, { op: 'setData' }>): Offset {
  const path = b.createString(op.path);
  const data = b.createByteVector(op.data ?? NO_BYTES);
  return fb.SetDataRequest.createSetDataRequest(b, path, data, op.version);
}

function getChildren(b: Builder, op: Extract<ClientRequest, { op: 'getChildren' }>): Offset {
  const path = b.createString(op.path);
  const after = op.after === '' ? 0 : b.createString(op.after);
  return fb.GetChildrenRequest.createGetChildrenRequest(b, path, op.watch, op.withStat, after, op.limit);
}

function request(b: Builder, r: ClientRequest): [fb.Request, Offset] {
  const R = fb.Request;
  switch (r.op) {
    case 'create':
      return [R.CreateRequest, create(b, r)];
    case 'delete':
      return [R.DeleteRequest, fb.DeleteRequest.createDeleteRequest(b, b.createString(r.path), r.version)];
    case 'exists':
      return [R.ExistsRequest, fb.ExistsRequest.createExistsRequest(b, b.createString(r.path), r.watch)];
    case 'getData':
      return [R.GetDataRequest, fb.GetDataRequest.createGetDataRequest(b, b.createString(r.path), r.watch)];
    case 'setData':
      return [R.SetDataRequest, setData(b, r)];
    case 'getChildren':
      return [R.GetChildrenRequest, getChildren(b, r)];
    case 'getAllChildrenNumber':
      return [R.GetAllChildrenNumberRequest, fb.GetAllChildrenNumberRequest.createGetAllChildrenNumberRequest(b, b.createString(r.path))];
    case 'getEphemerals':
      return [R.GetEphemeralsRequest, fb.GetEphemeralsRequest.createGetEphemeralsRequest(b, b.createString(r.prefix))];
    case 'getACL':
      return [R.GetAclRequest, fb.GetAclRequest.createGetAclRequest(b, b.createString(r.path))];
    case 'setACL': {
      const path = b.createString(r.path);
      const acl = fb.SetAclRequest.createAclVector(b, acls(b, r.acl));
      return [R.SetAclRequest, fb.SetAclRequest.createSetAclRequest(b, path, acl, r.version)];
    }
    case 'sync':
      return [R.SyncRequest, fb.SyncRequest.createSyncRequest(b, b.createString(r.path))];
    case 'multi': {
      const entries = r.ops.map((op) => {
        const [type, offset] = writeOp(b, op);
        return fb.WriteOpEntry.createWriteOpEntry(b, type, offset);
      });
      return [R.MultiRequest, fb.MultiRequest.createMultiRequest(b, fb.MultiRequest.createOpsVector(b, entries))];
    }
    case 'multiRead': {
      const entries = r.ops.map((op) => {
        const [type, offset] = readOp(b, op);
        return fb.ReadOpEntry.createReadOpEntry(b, type, offset);
      });
      return [R.MultiReadRequest, fb.MultiReadRequest.createMultiReadRequest(b, fb.MultiReadRequest.createOpsVector(b, entries))];
    }
    case 'addAuth': {
      const scheme = b.createString(r.scheme);
      const auth = b.createByteVector(r.auth);
      return [R.AddAuthRequest, fb.AddAuthRequest.createAddAuthRequest(b, scheme, auth)];
    }
    case 'addWatch':
      return [R.AddWatchRequest, fb.AddWatchRequest.createAddWatchRequest(b, b.createString(r.path), r.mode, big(r.fromZxid ?? -1))];
    case 'removeWatches':
      return [R.RemoveWatchesRequest, fb.RemoveWatchesRequest.createRemoveWatchesRequest(b, b.createString(r.path), r.watcherType)];
    case 'whoAmI':
      return [R.WhoAmIRequest, fb.WhoAmIRequest.createWhoAmIRequest(b)];
    case 'ping':
      return [R.PingRequest, fb.PingRequest.createPingRequest(b)];
    case 'closeSession':
      return [R.CloseSessionRequest, fb.CloseSessionRequest.createCloseSessionRequest(b)];
    case 'setWatches': {
      const S = fb.SetWatchesRequest;
      const data = S.createDataWatchesVector(b, strings(b, r.dataWatches));
      const exist = S.createExistWatchesVector(b, strings(b, r.existWatches));
      const child = S.createChildWatchesVector(b, strings(b, r.childWatches));
      const persistent = S.createPersistentWatchesVector(b, strings(b, r.persistentWatches));
      const recursive = S.createPersistentRecursiveWatchesVector(b, strings(b, r.persistentRecursiveWatches));
      return [R.SetWatchesRequest, S.createSetWatchesRequest(b, big(r.relativeZxid), data, exist, child, persistent, recursive)];
    }
  }
}

function statOnly(b: Builder, stat: Stat): Offset {
  fb.StatResponse.startStatResponse(b);
  fb.StatResponse.addStat(b, addStat(b, stat));
  return fb.StatResponse.endStatResponse(b);
}

function response(b: Builder, r: ClientResponse): [fb.Response, Offset] {
  const R = fb.Response;
  switch (r.kind) {
    case 'create': {
      const path = b.createString(r.path);
      fb.CreateResponse.startCreateResponse(b);
      fb.CreateResponse.addPath(b, path);
      if (r.stat) fb.CreateResponse.addStat(b, addStat(b, r.stat));
      return [R.CreateResponse, fb.CreateResponse.endCreateResponse(b)];
    }
    case 'stat':
      return [R.StatResponse, statOnly(b, r.stat)];
    case 'data': {
      // This protocol has no null data: a node with null data (created through the ZooKeeper door) reads as empty bytes.
      const data = b.createByteVector(r.data ?? NO_BYTES);
      fb.GetDataResponse.startGetDataResponse(b);
      fb.GetDataResponse.addData(b, data);
      fb.GetDataResponse.addStat(b, addStat(b, r.stat));
      return [R.GetDataResponse, fb.GetDataResponse.endGetDataResponse(b)];
    }
    case 'children': {
      const children = fb.GetChildrenResponse.createChildrenVector(b, strings(b, r.children));
      const next = r.nextAfter === undefined ? 0 : b.createString(r.nextAfter);
      fb.GetChildrenResponse.startGetChildrenResponse(b);
      fb.GetChildrenResponse.addChildren(b, children);
      if (r.stat) fb.GetChildrenResponse.addStat(b, addStat(b, r.stat));
      if (next) fb.GetChildrenResponse.addNextAfter(b, next);
      return [R.GetChildrenResponse, fb.GetChildrenResponse.endGetChildrenResponse(b)];
    }
    case 'count':
      return [R.CountResponse, fb.CountResponse.createCountResponse(b, big(r.count))];
    case 'paths':
      return [R.PathsResponse, fb.PathsResponse.createPathsResponse(b, fb.PathsResponse.createPathsVector(b, strings(b, r.paths)))];
    case 'acl': {
      const acl = fb.GetAclResponse.createAclVector(b, acls(b, r.acl));
      fb.GetAclResponse.startGetAclResponse(b);
      fb.GetAclResponse.addAcl(b, acl);
      fb.GetAclResponse.addStat(b, addStat(b, r.stat));
      return [R.GetAclResponse, fb.GetAclResponse.endGetAclResponse(b)];
    }
    case 'sync':
      return [R.SyncResponse, fb.SyncResponse.createSyncResponse(b, b.createString(r.path))];
    case 'empty':
      return [R.EmptyResponse, fb.EmptyResponse.createEmptyResponse(b)];
    case 'whoAmI': {
      const ids = r.ids.map((id: Id) => fb.Id.createId(b, b.createString(id.scheme), b.createString(id.id)));
      return [R.WhoAmIResponse, fb.WhoAmIResponse.createWhoAmIResponse(b, fb.WhoAmIResponse.createIdsVector(b, ids))];
    }
    case 'multi': {
      const results = r.results.map((result: OpResult) => {
        if (result.response === undefined) return fb.OpResult.createOpResult(b, result.error, fb.OpResponse.NONE, 0);
        const [type, offset] = opResponse(b, result.response);
        return fb.OpResult.createOpResult(b, 0, type, offset);
      });
      return [R.MultiResponse, fb.MultiResponse.createMultiResponse(b, fb.MultiResponse.createResultsVector(b, results))];
    }
  }
}

function opResponse(b: Builder, r: ClientResponse): [fb.OpResponse, Offset] {
  const [type, offset] = response(b, r);
  switch (type) {
    case fb.Response.CreateResponse:
      return [fb.OpResponse.CreateResponse, offset];
    case fb.Response.StatResponse:
      return [fb.OpResponse.StatResponse, offset];
    case fb.Response.GetDataResponse:
      return [fb.OpResponse.GetDataResponse, offset];
    case fb.Response.GetChildrenResponse:
      return [fb.OpResponse.GetChildrenResponse, offset];
    case fb.Response.EmptyResponse:
      return [fb.OpResponse.EmptyResponse, offset];
    default:
      throw new RangeError(`a multi result cannot carry a ${r.kind} response`);
  }
}

function authInfos(b: Builder, list: readonly AuthInfo[]): Offset[] {
  return list.map((a) => fb.AuthInfo.createAuthInfo(b, b.createString(a.scheme), b.createByteVector(a.auth)));
}

function finish(b: Builder, type: fb.Message, message: Offset): Uint8Array {
  b.finish(fb.Frame.createFrame(b, type, message));
  return b.asUint8Array();
}

/**
 * Encodes a client frame. The result is a view into `builder`'s buffer, valid until
 * the builder is used again: send it (or copy it) before the next encode.
 */
export function encodeClientFrame(frame: ClientFrame, builder: Builder = new flatbuffers.Builder(256)): Uint8Array {
  const b = builder;
  b.clear();
  if (frame.kind === 'connect') {
    const password = b.createByteVector(frame.password);
    const auth = fb.ConnectRequest.createAuthVector(b, authInfos(b, frame.auth));
    const connect = fb.ConnectRequest.createConnectRequest(
      b,
      frame.protocolVersion,
      big(frame.sessionId),
      password,
      frame.sessionTimeoutMs,
      big(frame.lastZxidSeen),
      auth,
    );
    return finish(b, fb.Message.ConnectRequest, connect);
  }
  const [type, offset] = request(b, frame.request);
  return finish(b, fb.Message.RequestFrame, fb.RequestFrame.createRequestFrame(b, frame.xid, type, offset, frame.linearizable));
}

/** Encodes a server frame; the result is a view into `builder`'s buffer (see encodeClientFrame). */
export function encodeServerFrame(frame: ServerFrame, builder: Builder = new flatbuffers.Builder(256)): Uint8Array {
  const b = builder;
  b.clear();
  switch (frame.kind) {
    case 'connected': {
      const password = b.createByteVector(frame.password);
      const connected = fb.ConnectResponse.createConnectResponse(
        b,
        frame.protocolVersion,
        big(frame.sessionId),
        password,
        frame.sessionTimeoutMs,
        frame.serverId,
        big(frame.epoch),
      );
      return finish(b, fb.Message.ConnectResponse, connected);
    }
    case 'reply': {
      const [type, offset] = frame.response === undefined ? [fb.Response.NONE, 0] : response(b, frame.response);
      return finish(b, fb.Message.ReplyFrame, fb.ReplyFrame.createReplyFrame(b, frame.xid, big(frame.zxid), frame.error, type, offset));
    }
    case 'event':
      return finish(b, fb.Message.WatchEvent, fb.WatchEvent.createWatchEvent(b, frame.type, b.createString(frame.path), big(frame.zxid), frame.forXid ?? 0));
    case 'close':
      return finish(b, fb.Message.CloseNotice, fb.CloseNotice.createCloseNotice(b, frame.error, b.createString(frame.reason)));
  }
}
