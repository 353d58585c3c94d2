// Which kind of node a ZooKeeper create packet asks for. ZooKeeper 3.8 decides by the
// opcode (PrepRequestProcessor.pRequest2TxnCreate: a CreateContainerTxn for
// createContainer, a CreateTxn that is ephemeral or not for create/create2), not by
// the flags alone. Found by the differential test (test/zookeeper/differential.test.ts)
// and checked against Debian's ZooKeeper 3.8: node-zookeeper-client passes any mode
// number through, so `create(path, 4)` sends flags 4 with opcode 1, which ZooKeeper
// makes a persistent node that is never reaped, while createContainer with flags 0 or
// 1 makes a container; and a createTTL whose flags are not a TTL mode is BadArguments.
import { describe, expect, test } from 'vitest';
import { CreateMode, ErrorCode } from '../../src/protocol/index.js';
import { JuteWriter } from '../../src/zookeeper/jute.js';
import { OpCode, decodeRequestPacket } from '../../src/zookeeper/records.js';

function createPacket(opCode: number, flags: number, ttl?: number): Uint8Array {
  const w = new JuteWriter().begin().int(1).int(opCode).ustring('/n').buffer(null);
  w.int(1).int(31).ustring('world').ustring('anyone');
  w.int(flags);
  if (ttl !== undefined) w.long(ttl);
  return w.frame().subarray(4);
}

const modeOf = (opCode: number, flags: number, ttl?: number): unknown => {
  const p = decodeRequestPacket(createPacket(opCode, flags, ttl));
  return p.request?.op === 'create' ? p.request.mode : p;
};

/** The same create as the single op of a multi. */
const multiModeOf = (opCode: number, flags: number): unknown => {
  const w = new JuteWriter().begin().int(1).int(OpCode.multi);
  w.int(opCode).bool(false).int(-1).ustring('/n').buffer(null);
  w.int(1).int(31).ustring('world').ustring('anyone');
  w.int(flags);
  w.int(-1).bool(true).int(-1);
  const p = decodeRequestPacket(w.frame().subarray(4));
  return p.request?.op === 'multi' && p.request.ops[0].op === 'create' ? p.request.ops[0].mode : p;
};

describe('create modes follow ZooKeeper: the opcode picks container or not', () => {
  test('create and create2 with the CONTAINER flag make a persistent node', () => {
    expect(modeOf(OpCode.create, CreateMode.CONTAINER)).toBe(CreateMode.PERSISTENT);
    expect(modeOf(OpCode.create2, CreateMode.CONTAINER)).toBe(CreateMode.PERSISTENT);
    expect(multiModeOf(OpCode.create, CreateMode.CONTAINER)).toBe(CreateMode.PERSISTENT);
    expect(multiModeOf(OpCode.create2, CreateMode.CONTAINER)).toBe(CreateMode.PERSISTENT);
  });

  test('createContainer makes a container whatever its flags (a sequential one stays sequential: zook has no sequential container)', () => {
    expect(modeOf(OpCode.createContainer, CreateMode.CONTAINER)).toBe(CreateMode.CONTAINER);
    expect(modeOf(OpCode.createContainer, CreateMode.PERSISTENT)).toBe(CreateMode.CONTAINER);
    expect(modeOf(OpCode.createContainer, CreateMode.EPHEMERAL)).toBe(CreateMode.CONTAINER);
    expect(modeOf(OpCode.createContainer, CreateMode.PERSISTENT_SEQUENTIAL)).toBe(CreateMode.PERSISTENT_SEQUENTIAL);
    expect(modeOf(OpCode.createContainer, CreateMode.EPHEMERAL_SEQUENTIAL)).toBe(CreateMode.PERSISTENT_SEQUENTIAL);
    expect(multiModeOf(OpCode.createContainer, CreateMode.PERSISTENT)).toBe(CreateMode.CONTAINER);
  });

  test('the other modes pass through unchanged', () => {
    for (const mode of [CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL_SEQUENTIAL]) {
      expect(modeOf(OpCode.create, mode)).toBe(mode);
      expect(modeOf(OpCode.create2, mode)).toBe(mode);
    }
    expect(modeOf(OpCode.createTTL, CreateMode.PERSISTENT_WITH_TTL, 1000)).toBe(CreateMode.PERSISTENT_WITH_TTL);
    expect(modeOf(OpCode.createTTL, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, 1000)).toBe(CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL);
  });
});

describe('createTTL needs a TTL mode (ZooKeeper: EphemeralType.validateTTL, before anything else)', () => {
  test('a createTTL whose flags are not a TTL mode is answered BadArguments by the door', () => {
    for (const mode of [CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL_SEQUENTIAL, CreateMode.CONTAINER]) {
      const p = decodeRequestPacket(createPacket(OpCode.createTTL, mode, 1000));
      expect(p.request).toBeUndefined();
      expect(p).toMatchObject({ xid: 1, shape: { opCode: OpCode.createTTL }, error: ErrorCode.BadArguments });
    }
  });

  test('inside a multi it answers the whole multi', () => {
    const w = new JuteWriter().begin().int(9).int(OpCode.multi);
    w.int(OpCode.createTTL).bool(false).int(-1).ustring('/n').buffer(null);
    w.int(1).int(31).ustring('world').ustring('anyone');
    w.int(CreateMode.PERSISTENT).long(1000);
    w.int(-1).bool(true).int(-1);
    expect(decodeRequestPacket(w.frame().subarray(4))).toMatchObject({ xid: 9, error: ErrorCode.BadArguments });
  });
});
