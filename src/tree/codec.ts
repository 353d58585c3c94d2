// The txn's binary form for the log: hand-written, compact (varints), versioned
// by a leading byte. Kept in this one file so the FlatBuffers schema of a later
// issue can replace it without touching anything else.
import type { Acl, Id } from './acl.js';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { DEFAULT_TREE_OPTIONS, type TreeOptions } from './options.js';
import { NodeKind, type CheckTxn, type CreateTxn, type DeleteTxn, type MultiOpTxn, type SetDataTxn, type Txn } from './types.js';

const FORMAT = 1;
/**
 * One tag per kind, shared with the forwarded-request codec (request-codec.ts). A
 * create or setData with null data (ZooKeeper's null buffer) has its own tag and no
 * data field, so every other txn is encoded exactly as before null data existed.
 */
export const TAG = {
  create: 1,
  delete: 2,
  setData: 3,
  setACL: 4,
  multi: 5,
  sync: 6,
  createSession: 7,
  closeSession: 8,
  check: 9,
  createNullData: 10,
  setDataNullData: 11,
} as const;

export { DecodeError };

/** Reused by every encode (single-threaded); the result is a copy of exactly the bytes written. */
let scratch = new ByteWriter(4096);
const SCRATCH_KEEP_BYTES = 1 << 20;

export function encodeTxn(txn: Txn): Uint8Array {
  const w = scratch;
  w.reset();
  w.u8(FORMAT);
  w.uvar(txn.timeMs);
  // Auth ids: 0 = none (a system txn), else 1 + count, then (scheme, id) pairs.
  const authIds = txn.authIds;
  if (authIds === undefined) w.uvar(0);
  else {
    w.uvar(authIds.length + 1);
    for (const id of authIds) {
      w.string(id.scheme);
      w.string(id.id);
    }
  }
  switch (txn.type) {
    case 'multi':
      w.u8(TAG.multi);
      w.uvar(txn.ops.length);
      for (const op of txn.ops) writeOp(w, op);
      break;
    case 'sync':
      w.u8(TAG.sync);
      w.string(txn.path);
      break;
    case 'createSession':
      w.u8(TAG.createSession);
      w.uvar(txn.sessionId);
      w.uvar(txn.timeoutMs);
      break;
    case 'closeSession':
      w.u8(TAG.closeSession);
      w.uvar(txn.sessionId);
      break;
    case 'setACL':
      w.u8(TAG.setACL);
      w.string(txn.path);
      writeAcl(w, txn.acl);
      w.svar(txn.version);
      break;
    default:
      writeOp(w, txn);
  }
  const out = w.bytes().slice();
  // Do not keep a huge buffer around after one huge multi.
  if (w.capacity > SCRATCH_KEEP_BYTES) scratch = new ByteWriter(4096);
  return out;
}

/** The ops whose request and txn forms are the same: a request codec writes and reads them with these. */
export type PlainOp = DeleteTxn | SetDataTxn | CheckTxn;

export function writeOp(w: ByteWriter, op: MultiOpTxn): void {
  switch (op.type) {
    case 'create':
      w.u8(op.data === null ? TAG.createNullData : TAG.create);
      w.string(op.path);
      w.string(op.sequentialPrefix);
      if (op.data !== null) w.blob(op.data);
      writeAcl(w, op.acl);
      w.u8(op.kind);
      w.uvar(op.ephemeralOwner);
      w.uvar(op.ttlMs);
      break;
    case 'delete':
      w.u8(TAG.delete);
      w.string(op.path);
      w.svar(op.version);
      break;
    case 'setData':
      w.u8(op.data === null ? TAG.setDataNullData : TAG.setData);
      w.string(op.path);
      if (op.data !== null) w.blob(op.data);
      w.svar(op.version);
      break;
    case 'check':
      w.u8(TAG.check);
      w.string(op.path);
      w.svar(op.version);
      break;
  }
}

export function writeAcl(w: ByteWriter, acl: readonly Acl[]): void {
  w.uvar(acl.length);
  for (const a of acl) {
    w.uvar(a.perms);
    w.string(a.scheme);
    w.string(a.id);
  }
}

export function readAcl(r: ByteReader, options: TreeOptions): Acl[] {
  const count = r.uvar();
  if (count > options.maxAclEntries) throw new DecodeError(`ACL of ${count} entries`);
  const acl: Acl[] = [];
  for (let i = 0; i < count; i++) {
    const perms = r.uvar();
    acl.push({ perms, scheme: r.string(options.maxAclIdBytes), id: r.string(options.maxAclIdBytes) });
  }
  return acl;
}

/** Decodes a txn, bounding every length by `options`; throws DecodeError on bad input. */
export function decodeTxn(bytes: Uint8Array, options: TreeOptions = DEFAULT_TREE_OPTIONS): Txn {
  const r = new ByteReader(bytes);
  const format = r.u8();
  if (format !== FORMAT) throw new DecodeError(`unknown txn format ${format}`);
  const timeMs = r.uvar();
  const authCount = r.uvar();
  let authIds: Id[] | undefined;
  if (authCount > 0) {
    if (authCount - 1 > options.maxAclEntries) throw new DecodeError(`${authCount - 1} auth ids`);
    authIds = [];
    for (let i = 1; i < authCount; i++) authIds.push({ scheme: r.string(options.maxAclIdBytes), id: r.string(options.maxAclIdBytes) });
  }
  const tag = r.u8();
  // Each txn object is built whole, in one literal (no spreads: they cost more than the rest of decoding).
  let txn: Txn;
  switch (tag) {
    case TAG.multi: {
      const count = r.uvar();
      if (count > options.maxMultiOps) throw new DecodeError(`multi of ${count} ops`);
      const ops: MultiOpTxn[] = [];
      for (let i = 0; i < count; i++) ops.push(readOp(r, r.u8(), options));
      txn = { type: 'multi', ops, timeMs, authIds };
      break;
    }
    case TAG.sync:
      txn = { type: 'sync', path: r.string(options.maxPathBytes), timeMs, authIds };
      break;
    case TAG.createSession:
      txn = { type: 'createSession', sessionId: r.uvar(), timeoutMs: r.uvar(), timeMs, authIds };
      break;
    case TAG.closeSession:
      txn = { type: 'closeSession', sessionId: r.uvar(), timeMs, authIds };
      break;
    case TAG.setACL:
      txn = { type: 'setACL', path: r.string(options.maxPathBytes), acl: readAcl(r, options), version: r.svar(), timeMs, authIds };
      break;
    case TAG.create:
    case TAG.createNullData: {
      const c = readCreate(r, options, tag === TAG.createNullData);
      txn = { type: 'create', path: c.path, sequentialPrefix: c.sequentialPrefix, data: c.data, acl: c.acl, kind: c.kind, ephemeralOwner: c.ephemeralOwner, ttlMs: c.ttlMs, timeMs, authIds };
      break;
    }
    case TAG.delete:
      txn = { type: 'delete', path: r.string(options.maxPathBytes), version: r.svar(), timeMs, authIds };
      break;
    case TAG.setData:
      txn = { type: 'setData', path: r.string(options.maxPathBytes), data: r.blob(options.maxDataBytes), version: r.svar(), timeMs, authIds };
      break;
    case TAG.setDataNullData:
      txn = { type: 'setData', path: r.string(options.maxPathBytes), data: null, version: r.svar(), timeMs, authIds };
      break;
    case TAG.check:
      throw new DecodeError('check outside a multi');
    default:
      throw new DecodeError(`unknown txn tag ${tag}`);
  }
  if (r.remaining !== 0) throw new DecodeError(`${r.remaining} trailing bytes`);
  return txn;
}

function readCreate(r: ByteReader, options: TreeOptions, nullData: boolean): CreateTxn {
  const path = r.string(options.maxPathBytes);
  const sequentialPrefix = r.string(options.maxPathBytes);
  const data = nullData ? null : r.blob(options.maxDataBytes);
  const acl = readAcl(r, options);
  const kind = r.u8();
  if (kind > NodeKind.Ttl) throw new DecodeError(`unknown node kind ${kind}`);
  return { type: 'create', path, sequentialPrefix, data, acl, kind: kind as NodeKind, ephemeralOwner: r.uvar(), ttlMs: r.uvar() };
}

export function readOp(r: ByteReader, tag: number, options: TreeOptions): MultiOpTxn {
  switch (tag) {
    case TAG.create:
    case TAG.createNullData:
      return readCreate(r, options, tag === TAG.createNullData);
    case TAG.delete:
      return { type: 'delete', path: r.string(options.maxPathBytes), version: r.svar() };
    case TAG.setData:
      return { type: 'setData', path: r.string(options.maxPathBytes), data: r.blob(options.maxDataBytes), version: r.svar() };
    case TAG.setDataNullData:
      return { type: 'setData', path: r.string(options.maxPathBytes), data: null, version: r.svar() };
    case TAG.check:
      return { type: 'check', path: r.string(options.maxPathBytes), version: r.svar() };
    default:
      throw new DecodeError(`unknown txn tag ${tag}`);
  }
}
