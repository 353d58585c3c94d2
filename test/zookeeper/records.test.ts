// The jute codec of ZooKeeper's client records: what each packet decodes into, what
// each reply is written as, and how bad bytes are refused.
import { describe, expect, test } from 'vitest';
import { ErrorCode, type Stat } from '../../src/protocol/index.js';
import { JuteError, JuteReader, JuteWriter } from '../../src/zookeeper/jute.js';
import { OpCode, decodeConnectRequest, decodeRequestPacket, encodeConnectResponse, encodeReply, encodeWatcherEvent } from '../../src/zookeeper/records.js';

const STAT: Stat = { czxid: 1, mzxid: 2, pzxid: 3, ctime: 4, mtime: 5, version: 6, cversion: 7, aversion: 8, ephemeralOwner: 9, dataLength: 10, numChildren: 11 };

/** A request packet's bytes without the length prefix. */
function packet(xid: number, opCode: number, write: (w: JuteWriter) => void = () => {}): Uint8Array {
  const w = new JuteWriter().begin().int(xid).int(opCode);
  write(w);
  return w.frame().subarray(4);
}

/** A reply frame (length prefix included) read back as header + reader over its body. */
function reply(bytes: Uint8Array): { xid: number; zxid: number; err: number; r: JuteReader } {
  const r = new JuteReader(bytes.subarray(4));
  expect(new DataView(bytes.buffer, bytes.byteOffset).getInt32(0)).toBe(bytes.length - 4);
  return { xid: r.int(), zxid: r.long(), err: r.int(), r };
}

function readStat(r: JuteReader): Stat {
  const [czxid, mzxid, ctime, mtime] = [r.long(), r.long(), r.long(), r.long()];
  const [version, cversion, aversion] = [r.int(), r.int(), r.int()];
  const ephemeralOwner = r.long();
  const [dataLength, numChildren] = [r.int(), r.int()];
  return { czxid, mzxid, pzxid: r.long(), ctime, mtime, version, cversion, aversion, ephemeralOwner, dataLength, numChildren };
}

const openAcl = (w: JuteWriter) => void w.int(1).int(31).ustring('world').ustring('anyone');

describe('requests decode into the server core\'s request shape', () => {
  test('create answers with the path only; create2, createContainer and createTTL with path and Stat', () => {
    const create = (op: number, flags: number, ttl?: number) =>
      decodeRequestPacket(packet(7, op, (w) => {
        w.ustring('/a').buffer(Buffer.from('d'));
        openAcl(w);
        w.int(flags);
        if (ttl !== undefined) w.long(ttl);
      }));
    expect(create(OpCode.create, 1).request).toMatchObject({ op: 'create', path: '/a', mode: 1, returnStat: false });
    expect(create(OpCode.create2, 0).request).toMatchObject({ op: 'create', returnStat: true });
    expect(create(OpCode.createContainer, 4).request).toMatchObject({ op: 'create', mode: 4, returnStat: true });
    expect(create(OpCode.createTTL, 5, 1500).request).toMatchObject({ op: 'create', mode: 5, ttlMs: 1500, returnStat: true });
    expect(create(OpCode.create, 0).xid).toBe(7);
  });

  test('create and setData keep null data (length -1) as null, and empty data as empty bytes', () => {
    const create = (data: Uint8Array | null) =>
      decodeRequestPacket(packet(1, OpCode.create, (w) => {
        w.ustring('/a').buffer(data);
        openAcl(w);
        w.int(0);
      })).request;
    expect(create(null)).toMatchObject({ op: 'create', data: null });
    expect(create(new Uint8Array(0))).toMatchObject({ op: 'create', data: new Uint8Array(0) });
    const setData = decodeRequestPacket(packet(2, OpCode.setData, (w) => void w.ustring('/a').buffer(null).int(-1))).request;
    expect(setData).toMatchObject({ op: 'setData', data: null });
  });

  test('a multi keeps null data in its create and setData ops', () => {
    const p = decodeRequestPacket(packet(3, OpCode.multi, (w) => {
      w.int(OpCode.create).bool(false).int(-1).ustring('/m').buffer(null);
      openAcl(w);
      w.int(0);
      w.int(OpCode.setData).bool(false).int(-1).ustring('/m').buffer(null).int(-1);
      w.int(-1).bool(true).int(-1);
    }));
    expect(p.request).toMatchObject({ op: 'multi', ops: [{ op: 'create', data: null }, { op: 'setData', data: null }] });
  });

  test('getChildren2 asks for the Stat, getChildren does not', () => {
    expect(decodeRequestPacket(packet(1, OpCode.getChildren, (w) => void w.ustring('/p').bool(true))).request).toMatchObject({ op: 'getChildren', watch: true, withStat: false });
    expect(decodeRequestPacket(packet(1, OpCode.getChildren2, (w) => void w.ustring('/p').bool(false))).request).toMatchObject({ op: 'getChildren', watch: false, withStat: true });
  });

  test('a multi lists its ops and remembers each op\'s opcode for the reply', () => {
    const p = decodeRequestPacket(packet(3, OpCode.multi, (w) => {
      w.int(OpCode.create2).bool(false).int(-1).ustring('/m').buffer(null);
      openAcl(w);
      w.int(0);
      w.int(OpCode.check).bool(false).int(-1).ustring('/m').int(4);
      w.int(OpCode.delete).bool(false).int(-1).ustring('/n').int(-1);
      w.int(-1).bool(true).int(-1);
    }));
    expect(p.request).toMatchObject({ op: 'multi', ops: [{ op: 'create', path: '/m' }, { op: 'check', version: 4 }, { op: 'delete', path: '/n' }] });
    expect(p.shape.subOps).toEqual([OpCode.create2, OpCode.check, OpCode.delete]);
  });

  test('setWatches2 carries the persistent lists; setWatches leaves them empty', () => {
    const lists = (w: JuteWriter, n: number) => {
      for (let i = 0; i < n; i++) w.int(1).ustring(`/w${i}`);
    };
    const v2 = decodeRequestPacket(packet(-8, OpCode.setWatches2, (w) => void (w.long(42), lists(w, 5))));
    expect(v2.request).toMatchObject({ op: 'setWatches', relativeZxid: 42, dataWatches: ['/w0'], persistentWatches: ['/w3'], persistentRecursiveWatches: ['/w4'] });
    const v1 = decodeRequestPacket(packet(-8, OpCode.setWatches, (w) => void (w.long(1), lists(w, 3))));
    expect(v1.request).toMatchObject({ op: 'setWatches', childWatches: ['/w2'], persistentWatches: [] });
  });

  test('reconfig, SASL, a lone check and unknown opcodes are answered by the door with an error code', () => {
    expect(decodeRequestPacket(packet(1, OpCode.reconfig, (w) => void w.ustring(null).ustring(null).ustring(null).long(-1)))).toMatchObject({ error: ErrorCode.ReconfigDisabled });
    expect(decodeRequestPacket(packet(1, OpCode.sasl, (w) => void w.buffer(null)))).toMatchObject({ error: ErrorCode.AuthFailed });
    expect(decodeRequestPacket(packet(1, OpCode.check, (w) => void w.ustring('/x').int(1)))).toMatchObject({ error: ErrorCode.Unimplemented });
    expect(decodeRequestPacket(packet(1, 999))).toMatchObject({ xid: 1, error: ErrorCode.Unimplemented });
  });

  test('a body that does not decode is answered MarshallingError under its own xid', () => {
    expect(decodeRequestPacket(packet(5, OpCode.getData, (w) => void w.ustring(null).bool(false)))).toMatchObject({ xid: 5, error: ErrorCode.MarshallingError });
    expect(decodeRequestPacket(packet(6, OpCode.getData, (w) => void w.int(1000)))).toMatchObject({ xid: 6, error: ErrorCode.MarshallingError });
    expect(decodeRequestPacket(packet(7, OpCode.exists, (w) => void w.ustring('/x').bool(false).int(0)))).toMatchObject({ xid: 7, error: ErrorCode.MarshallingError });
    expect(decodeRequestPacket(packet(8, OpCode.getChildren2, (w) => void w.int(-7)))).toMatchObject({ error: ErrorCode.MarshallingError });
  });

  test('a vector longer than the limit is refused before anything is allocated', () => {
    const p = decodeRequestPacket(packet(9, OpCode.setWatches, (w) => void w.long(0).int(2_000_000_000)));
    expect(p).toMatchObject({ error: ErrorCode.MarshallingError });
    expect(p.request).toBeUndefined();
  });

  test('a header cut short cannot be answered: it throws (the connection is closed)', () => {
    expect(() => decodeRequestPacket(new Uint8Array([0, 0, 0]))).toThrow(JuteError);
  });

  test('a ConnectRequest with and without the readOnly byte (3.4+ clients and older ones)', () => {
    const w = new JuteWriter().begin().int(0).long(17).int(30_000).long(5).buffer(new Uint8Array(16));
    const withoutFlag = w.frame().subarray(4);
    expect(decodeConnectRequest(withoutFlag)).toMatchObject({ lastZxidSeen: 17, timeoutMs: 30_000, sessionId: 5, readOnly: null });
    const withFlag = w.bool(true).frame().subarray(4);
    expect(decodeConnectRequest(withFlag)).toMatchObject({ readOnly: true });
  });
});

describe('replies are written as ZooKeeper\'s records', () => {
  test('create gives CreateResponse, create2 gives Create2Response', () => {
    const plain = reply(encodeReply(new JuteWriter(), 1, 10, 0, { opCode: OpCode.create }, { kind: 'create', path: '/a', stat: STAT }));
    expect(plain.r.ustring()).toBe('/a');
    expect(plain.r.remaining).toBe(0);
    const two = reply(encodeReply(new JuteWriter(), 2, 10, 0, { opCode: OpCode.create2 }, { kind: 'create', path: '/a', stat: STAT }));
    expect(two.r.ustring()).toBe('/a');
    expect(readStat(two.r)).toEqual(STAT);
  });

  test('getData of null data writes a null buffer (length -1); of empty data, length 0', () => {
    const nullData = reply(encodeReply(new JuteWriter(), 3, 10, 0, { opCode: OpCode.getData }, { kind: 'data', data: null, stat: STAT }));
    expect(nullData.r.int()).toBe(-1);
    expect(readStat(nullData.r)).toEqual(STAT);
    const empty = reply(encodeReply(new JuteWriter(), 3, 10, 0, { opCode: OpCode.getData }, { kind: 'data', data: new Uint8Array(0), stat: STAT }));
    expect(empty.r.int()).toBe(0);
  });

  test("multiRead's getData of null data writes a null buffer (length -1)", () => {
    const r = reply(encodeReply(new JuteWriter(), 4, 10, 0, { opCode: OpCode.multiRead, subOps: [OpCode.getData] }, { kind: 'multi', results: [{ error: 0, response: { kind: 'data', data: null, stat: STAT } }] }));
    expect([r.r.int(), r.r.bool(), r.r.int(), r.r.int()]).toEqual([OpCode.getData, false, 0, -1]);
    expect(readStat(r.r)).toEqual(STAT);
  });

  test('an error reply is a header alone', () => {
    const r = reply(encodeReply(new JuteWriter(), 4, 99, ErrorCode.NoNode, { opCode: OpCode.getData }));
    expect([r.xid, r.zxid, r.err, r.r.remaining]).toEqual([4, 99, ErrorCode.NoNode, 0]);
  });

  test('a failed multi has err 0 in its header and an ErrorResponse per op', () => {
    const results = [{ error: 0 }, { error: ErrorCode.BadVersion }, { error: ErrorCode.RuntimeInconsistency }] as const;
    const r = reply(encodeReply(new JuteWriter(), 5, 1, ErrorCode.BadVersion, { opCode: OpCode.multi, subOps: [1, 5, 2] }, { kind: 'multi', results }));
    expect(r.err).toBe(0);
    const seen: number[][] = [];
    for (;;) {
      const [type, done, err] = [r.r.int(), r.r.bool(), r.r.int()];
      if (done) break;
      seen.push([type, err, r.r.int()]);
    }
    expect(seen).toEqual([
      [OpCode.error, 0, 0],
      [OpCode.error, ErrorCode.BadVersion, ErrorCode.BadVersion],
      [OpCode.error, ErrorCode.RuntimeInconsistency, ErrorCode.RuntimeInconsistency],
    ]);
  });

  test('a successful multi writes each result as its op\'s record', () => {
    const r = reply(
      encodeReply(new JuteWriter(), 6, 1, 0, { opCode: OpCode.multi, subOps: [OpCode.create, OpCode.setData, OpCode.delete] }, {
        kind: 'multi',
        results: [{ error: 0, response: { kind: 'create', path: '/x', stat: STAT } }, { error: 0, response: { kind: 'stat', stat: STAT } }, { error: 0, response: { kind: 'empty' } }],
      }),
    );
    expect([r.r.int(), r.r.bool(), r.r.int(), r.r.ustring()]).toEqual([OpCode.create, false, 0, '/x']);
    expect([r.r.int(), r.r.bool(), r.r.int()]).toEqual([OpCode.setData, false, 0]);
    expect(readStat(r.r)).toEqual(STAT);
    expect([r.r.int(), r.r.bool(), r.r.int()]).toEqual([OpCode.delete, false, 0]);
    expect([r.r.int(), r.r.bool(), r.r.int()]).toEqual([-1, true, -1]);
    expect(r.r.remaining).toBe(0);
  });

  test('addWatch answers with an ErrorResponse(0) body, as ZooKeeper\'s server does', () => {
    const r = reply(encodeReply(new JuteWriter(), 7, 1, 0, { opCode: OpCode.addWatch }, { kind: 'empty' }));
    expect(r.r.int()).toBe(0);
    expect(r.r.remaining).toBe(0);
  });

  test('a watch event is xid -1 with a WatcherEvent in state SyncConnected', () => {
    const r = reply(encodeWatcherEvent(new JuteWriter(), 3, '/w', 12));
    expect([r.xid, r.zxid, r.err, r.r.int(), r.r.int(), r.r.ustring()]).toEqual([-1, 12, 0, 3, 3, '/w']);
  });

  test('a ConnectResponse carries the readOnly byte only when the request did', () => {
    const without = encodeConnectResponse(new JuteWriter(), 4000, 77, new Uint8Array(16), null);
    const withFlag = encodeConnectResponse(new JuteWriter(), 4000, 77, new Uint8Array(16), true);
    expect(withFlag.length).toBe(without.length + 1);
    const r = new JuteReader(without.subarray(4));
    expect([r.int(), r.int(), r.long(), r.buffer()?.length]).toEqual([0, 4000, 77, 16]);
  });
});
