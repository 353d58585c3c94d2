// The binary form of a write request and the session it comes from, for a
// follower that hands the request to its leader (prepare runs only on the leader,
// against the newest tree). Same primitives and limits as the txn codec.
import type { Id } from './acl.js';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { TAG, readAcl, readOp as readPlainOp, writeAcl, writeOp as writePlainOp, type PlainOp } from './codec.js';
import { DEFAULT_TREE_OPTIONS, type TreeOptions } from './options.js';
import type { CreateMode, MultiOpRequest, RequestSession, WriteRequest } from './types.js';

const FORMAT = 1;

export interface SessionRequest {
  readonly session: RequestSession;
  readonly request: WriteRequest;
}

/** Reused by encodeWriteRequest (single-threaded); the result is a copy of exactly the bytes written. */
let scratch = new ByteWriter(4096);
const SCRATCH_KEEP_BYTES = 1 << 20;

export function encodeWriteRequest(session: RequestSession, request: WriteRequest): Uint8Array {
  scratch.reset();
  writeWriteRequest(scratch, session, request);
  const out = scratch.bytes().slice();
  // Do not keep a huge buffer around after one huge request.
  if (scratch.capacity > SCRATCH_KEEP_BYTES) scratch = new ByteWriter(4096);
  return out;
}

/** Appends a request and its session to `w`, after whatever the caller wrote there (a forward's kind byte). */
export function writeWriteRequest(w: ByteWriter, session: RequestSession, request: WriteRequest): void {
  w.u8(FORMAT);
  w.uvar(session.id);
  w.uvar(session.authIds.length);
  for (const id of session.authIds) {
    w.string(id.scheme);
    w.string(id.id);
  }
  switch (request.type) {
    case 'multi':
      w.u8(TAG.multi);
      w.uvar(request.ops.length);
      for (const op of request.ops) writeOp(w, op);
      break;
    case 'sync':
      w.u8(TAG.sync);
      w.string(request.path);
      break;
    case 'createSession':
      w.u8(TAG.createSession);
      w.uvar(request.sessionId);
      w.uvar(request.timeoutMs);
      break;
    case 'closeSession':
      w.u8(TAG.closeSession);
      w.uvar(request.sessionId);
      break;
    case 'setACL':
      w.u8(TAG.setACL);
      w.string(request.path);
      writeAcl(w, request.acl);
      w.svar(request.version);
      break;
    default:
      writeOp(w, request);
  }
}

function writeOp(w: ByteWriter, op: MultiOpRequest): void {
  if (op.type !== 'create') {
    writePlainOp(w, op);
    return;
  }
  // Null data (ZooKeeper's null buffer): its own tag, no data field (as in codec.ts).
  w.u8(op.data === null ? TAG.createNullData : TAG.create);
  w.string(op.path);
  if (op.data !== null) w.blob(op.data);
  writeAcl(w, op.acl);
  w.u8(op.mode);
  // 0 = no TTL given; a TTL is always >= 1 ms.
  w.uvar(op.ttlMs ?? 0);
}

/** Decodes a forwarded request from `bytes` at `offset`, bounding every length by `options`; throws DecodeError on bad input. */
export function decodeWriteRequest(bytes: Uint8Array, options: TreeOptions = DEFAULT_TREE_OPTIONS, offset = 0): SessionRequest {
  const r = new ByteReader(bytes, offset);
  const format = r.u8();
  if (format !== FORMAT) throw new DecodeError(`unknown request format ${format}`);
  const id = r.uvar();
  const authCount = r.uvar();
  if (authCount > options.maxAclEntries) throw new DecodeError(`${authCount} auth ids`);
  const authIds: Id[] = [];
  for (let i = 0; i < authCount; i++) authIds.push({ scheme: r.string(options.maxAclIdBytes), id: r.string(options.maxAclIdBytes) });
  const tag = r.u8();
  let request: WriteRequest;
  switch (tag) {
    case TAG.multi: {
      const count = r.uvar();
      if (count > options.maxMultiOps) throw new DecodeError(`multi of ${count} ops`);
      const ops: MultiOpRequest[] = [];
      for (let i = 0; i < count; i++) ops.push(readOp(r, r.u8(), options));
      request = { type: 'multi', ops };
      break;
    }
    case TAG.sync:
      request = { type: 'sync', path: r.string(options.maxPathBytes) };
      break;
    case TAG.createSession:
      request = { type: 'createSession', sessionId: r.uvar(), timeoutMs: r.uvar() };
      break;
    case TAG.closeSession:
      request = { type: 'closeSession', sessionId: r.uvar() };
      break;
    case TAG.setACL:
      request = { type: 'setACL', path: r.string(options.maxPathBytes), acl: readAcl(r, options), version: r.svar() };
      break;
    default: {
      const op = readOp(r, tag, options);
      if (op.type === 'check') throw new DecodeError('check outside a multi');
      request = op;
    }
  }
  if (r.remaining !== 0) throw new DecodeError(`${r.remaining} trailing bytes`);
  return { session: { id, authIds }, request };
}

function readOp(r: ByteReader, tag: number, options: TreeOptions): MultiOpRequest {
  if (tag !== TAG.create && tag !== TAG.createNullData) {
    if (tag !== TAG.delete && tag !== TAG.setData && tag !== TAG.setDataNullData && tag !== TAG.check) throw new DecodeError(`unknown request tag ${tag}`);
    return readPlainOp(r, tag, options) as PlainOp;
  }
  const path = r.string(options.maxPathBytes);
  const data = tag === TAG.createNullData ? null : r.blob(options.maxDataBytes);
  const acl = readAcl(r, options);
  const mode = r.u8() as CreateMode;
  const ttlMs = r.uvar();
  return ttlMs === 0 ? { type: 'create', path, data, acl, mode } : { type: 'create', path, data, acl, mode, ttlMs };
}
