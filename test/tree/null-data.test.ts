// Null data (ZooKeeper's null buffer, jute length -1): a node created or set with
// null keeps null, apart from empty bytes, through apply, the txn codec, the
// forwarded-request codec, the digest and snapshots. One behaviour per test.
import { describe, expect, test } from 'vitest';
import { crc32c } from '../../src/core/index.js';
import {
  DataTree,
  OPEN_ACL_UNSAFE,
  SnapshotError,
  apply,
  decodeTxn,
  decodeWriteRequest,
  encodeTxn,
  encodeWriteRequest,
  exists,
  getData,
  loadSnapshot,
  multiRead,
  writeSnapshot,
  type CreateRequest,
  type NodeData,
  type SetDataRequest,
  type Txn,
  type WriteRequest,
} from '../../src/tree/index.js';
import { bytes, harness, type Harness } from './harness.js';

const anon = { id: 1, authIds: [] };
const createReq = (path: string, data: NodeData): CreateRequest => ({ type: 'create', path, data, acl: OPEN_ACL_UNSAFE, mode: 0 });
const setDataReq = (path: string, data: NodeData): SetDataRequest => ({ type: 'setData', path, data, version: -1 });

/** The node's data as text ('' for empty bytes), null for null data; undefined if the read fails. */
function dataOf(h: Harness | DataTree, path: string): string | null | undefined {
  const r = getData(h instanceof DataTree ? h : h.tree, path, anon);
  if (r.error !== 0) return undefined;
  return r.data === null ? null : Buffer.from(r.data).toString('latin1');
}

function mustWrite(h: Harness, request: WriteRequest): void {
  const r = h.write(request);
  if (r.error !== 0) throw new Error(`${request.type} failed: ${r.error}`);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

describe('null data in the tree', () => {
  test('a node created with null data reads back as null, with dataLength 0', () => {
    const h = harness();
    mustWrite(h, createReq('/n', null));
    const r = getData(h.tree, '/n', anon);
    expect(r.error === 0 && r.data).toBe(null);
    expect(r.error === 0 && r.stat.dataLength).toBe(0);
  });

  test('a node created with empty data reads back as empty bytes, not null', () => {
    const h = harness();
    mustWrite(h, createReq('/e', new Uint8Array(0)));
    expect(dataOf(h, '/e')).toBe('');
  });

  test('setData with null replaces bytes with null and bumps the version', () => {
    const h = harness();
    mustWrite(h, createReq('/n', bytes('abc')));
    mustWrite(h, setDataReq('/n', null));
    expect(dataOf(h, '/n')).toBe(null);
    const s = exists(h.tree, '/n', anon);
    expect(s.error === 0 && [s.stat.version, s.stat.dataLength]).toEqual([1, 0]);
  });

  test('setData with bytes on a null node replaces the null', () => {
    const h = harness();
    mustWrite(h, createReq('/n', null));
    mustWrite(h, setDataReq('/n', bytes('x')));
    expect(dataOf(h, '/n')).toBe('x');
  });

  test('a multi creates and sets null data', () => {
    const h = harness();
    mustWrite(h, createReq('/s', bytes('old')));
    mustWrite(h, { type: 'multi', ops: [createReq('/m', null), setDataReq('/s', null)] });
    expect([dataOf(h, '/m'), dataOf(h, '/s')]).toEqual([null, null]);
  });

  test("multiRead's getData answers null for null data", () => {
    const h = harness();
    mustWrite(h, createReq('/n', null));
    const r = multiRead(h.tree, [{ type: 'getData', path: '/n' }], anon);
    expect(r.error === 0 && r.results[0]).toMatchObject({ type: 'getData', data: null });
  });

  test('the digest tells null from empty data', () => {
    const [a, b] = [harness(), harness()];
    mustWrite(a, createReq('/x', null));
    mustWrite(b, createReq('/x', new Uint8Array(0)));
    expect(a.tree.digest).not.toBe(b.tree.digest);
  });

  test('the incremental digest with null data equals the one recomputed from scratch', () => {
    const h = harness();
    mustWrite(h, createReq('/x', null));
    mustWrite(h, setDataReq('/x', bytes('y')));
    mustWrite(h, setDataReq('/x', null));
    expect(h.tree.digest).toBe(h.tree.recomputeDigest());
  });
});

describe('null data in txns and forwarded requests', () => {
  test('create, setData and a multi with null data survive the txn codec', () => {
    const txns: Txn[] = [
      { type: 'create', path: '/n', sequentialPrefix: '', data: null, acl: OPEN_ACL_UNSAFE, kind: 0, ephemeralOwner: 0, ttlMs: 0, timeMs: 5, authIds: [] },
      { type: 'setData', path: '/n', data: null, version: 3, timeMs: 5 },
      { type: 'multi', ops: [{ type: 'create', path: '/m', sequentialPrefix: '', data: null, acl: OPEN_ACL_UNSAFE, kind: 0, ephemeralOwner: 0, ttlMs: 0 }, { type: 'setData', path: '/m', data: null, version: -1 }], timeMs: 6 },
    ];
    for (const txn of txns) expect(decodeTxn(encodeTxn(txn))).toEqual(txn);
  });

  test('a txn applied on a replica through the codec keeps null data and the same digest', () => {
    const h = harness();
    mustWrite(h, createReq('/n', null));
    const replica = new DataTree();
    h.txns.forEach((txn, i) => apply(replica, decodeTxn(encodeTxn(txn)), i + 1));
    expect(dataOf(replica, '/n')).toBe(null);
    expect(replica.digest).toBe(h.tree.digest);
  });

  test('create, setData and a multi with null data survive the forwarded-request codec', () => {
    const session = { id: 9, authIds: [] };
    const requests: WriteRequest[] = [createReq('/n', null), setDataReq('/n', null), { type: 'multi', ops: [createReq('/m', null), setDataReq('/m', null)] }];
    for (const request of requests) {
      expect(decodeWriteRequest(encodeWriteRequest(session, request))).toEqual({ session, request });
    }
  });

  test('txns and requests with bytes are encoded exactly as before null data existed (logs already written still decode)', () => {
    // Bytes written by the codecs before null data existed (commit a4acd06).
    const create: Txn = { type: 'create', path: '/a', sequentialPrefix: '', data: bytes('x'), acl: OPEN_ACL_UNSAFE, kind: 0, ephemeralOwner: 0, ttlMs: 0, timeMs: 1000, authIds: [] };
    const setData: Txn = { type: 'setData', path: '/a', data: bytes('yz'), version: 0, timeMs: 1002, authIds: [] };
    expect(hex(encodeTxn(create))).toBe('01e8070101022f61000178011f05776f726c6406616e796f6e65000000');
    expect(hex(encodeTxn(setData))).toBe('01ea070103022f6102797a00');
    expect(hex(encodeWriteRequest({ id: 5, authIds: [] }, { type: 'create', path: '/a', data: bytes('x'), acl: OPEN_ACL_UNSAFE, mode: 0 }))).toBe('01050001022f610178011f05776f726c6406616e796f6e650000');
  });
});

describe('null data in snapshots', () => {
  test('a snapshot round trip keeps null data apart from empty data, with the same digest and bytes', () => {
    const h = harness();
    mustWrite(h, createReq('/n', null));
    mustWrite(h, createReq('/e', new Uint8Array(0)));
    mustWrite(h, createReq('/b', bytes('b')));
    const before = Buffer.concat([...writeSnapshot(h.tree)]);
    const loaded = loadSnapshot([before]);
    expect([dataOf(loaded, '/n'), dataOf(loaded, '/e'), dataOf(loaded, '/b')]).toEqual([null, '', 'b']);
    expect(loaded.digest).toBe(h.tree.digest);
    expect(Buffer.concat([...writeSnapshot(loaded)]).equals(before)).toBe(true);
  });

  test('a snapshot written before null data existed loads, with its digest', () => {
    // writeSnapshot of /a = "yz", /e = empty, /m = empty at commit a4acd06.
    const old =
      '090000000153544b5a010400020772ee7409100000000300010105776f726c6406616e796f6e656f585ba3100000000301011f05776f726c6406616e796f6e6573626255a300000004012f0100000400000004000000000300022f6101010301e807ea070200000000000002797a022f6501020202e907e9070000000000000000022f6d01040404eb07eb0702000000000000000a2f7a6f6f6b65657065720100000000000003000000000000112f7a6f6f6b65657065722f636f6e6669670000000000000000010000000000102f7a6f6f6b65657065722f71756f7461010000000000000000000000000082aa9ef3090000000585f7a56ff5c7e4f00755b5c88e';
    const loaded = loadSnapshot([unhex(old)]);
    expect([dataOf(loaded, '/a'), dataOf(loaded, '/e'), dataOf(loaded, '/m')]).toEqual(['yz', '', '']);
    expect(hex(Buffer.concat([...writeSnapshot(loaded)]))).toBe(old);
  });

  test('a snapshot node record marked null but carrying bytes is refused', () => {
    const h = harness();
    mustWrite(h, createReq('/n', null));
    const good = Buffer.concat([...writeSnapshot(h.tree)]);
    // The snapshot bytes of /n's record: ... kind (0x80: null data) ttl childCreates dataLength(0).
    const at = good.indexOf(Buffer.from('022f6e', 'hex'));
    expect(at).toBeGreaterThan(0);
    // Rewrite the record's empty data as one byte and fix the frame's length and CRC: refused by content, not by CRC.
    const bad = corruptNullRecord(good, at);
    expect(() => loadSnapshot([bad])).toThrow(SnapshotError);
    expect(() => loadSnapshot([bad])).toThrow(/null data with 1 bytes/);
  });
});

/** `snapshot` with /n's null-data record given one byte of data, its NODES frame re-framed with a valid CRC. */
function corruptNullRecord(snapshot: Buffer, recordAt: number): Uint8Array {
  // Walk frames to find the one holding the record.
  let at = 0;
  for (;;) {
    const length = snapshot.readUInt32LE(at);
    const end = at + 9 + length;
    if (recordAt >= at && recordAt < end) {
      const payload = snapshot.subarray(at + 5, end - 4);
      const rel = recordAt - (at + 5);
      // Record: path(3) acl(1) czxid mzxid pzxid ctime mtime version cversion aversion owner kind ttl childCreates dataLength data
      const r = { i: rel + 3 + 1 };
      const skipVar = (): void => {
        while ((payload[r.i] & 0x80) !== 0) r.i++;
        r.i++;
      };
      for (let k = 0; k < 9; k++) skipVar();
      const kindAt = r.i;
      expect(payload[kindAt] & 0x80).toBe(0x80);
      r.i++;
      skipVar();
      skipVar();
      const dataLengthAt = r.i;
      expect(payload[dataLengthAt]).toBe(0);
      const newPayload = Buffer.concat([payload.subarray(0, dataLengthAt), Buffer.from([1, 0x41]), payload.subarray(dataLengthAt + 1)]);
      const frame = Buffer.alloc(9 + newPayload.length);
      frame.writeUInt32LE(newPayload.length, 0);
      frame[4] = snapshot[at + 4];
      newPayload.copy(frame, 5);
      frame.writeUInt32LE(crc32c(frame.subarray(0, 5 + newPayload.length)), 5 + newPayload.length);
      return Buffer.concat([snapshot.subarray(0, at), frame, snapshot.subarray(end)]);
    }
    at = end;
  }
}
