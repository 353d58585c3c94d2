// Forward payloads between servers: writes, the leader's answers and ping batches
// round-trip; malformed payloads are refused with DecodeError.
import { describe, expect, test } from 'vitest';
import { decodeForward, encodeForwardAttach, encodeForwardPings, encodeForwardReply, encodeForwardWrite, type ForwardReply } from '../../../src/server/cluster/forward-codec.js';
import { multiOfReply, replyOfRejection } from '../../../src/server/cluster/forwarding.js';
import { DEFAULT_TREE_OPTIONS, DecodeError, ErrorCode, failedMultiResult } from '../../../src/tree/index.js';

const decode = (bytes: Uint8Array) => decodeForward(bytes, DEFAULT_TREE_OPTIONS, 1000);

describe('forward payloads', () => {
  test('a forwarded write carries its session and request', () => {
    const message = decode(encodeForwardWrite({ id: 5, authIds: [] }, { type: 'delete', path: '/x', version: 3 }));
    expect(message).toEqual({ kind: 'write', write: { session: { id: 5, authIds: [] }, request: { type: 'delete', path: '/x', version: 3 } } });
  });

  test('a forwarded write keeps null data (ZooKeeper\'s null buffer) apart from empty data', () => {
    const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }];
    const request = {
      type: 'multi',
      ops: [
        { type: 'create', path: '/n', data: null, acl, mode: 0 },
        { type: 'create', path: '/e', data: new Uint8Array(0), acl, mode: 0 },
        { type: 'setData', path: '/n', data: null, version: -1 },
      ],
    } as const;
    const message = decode(encodeForwardWrite({ id: 5, authIds: [] }, request));
    if (message.kind !== 'write' || message.write.request.type !== 'multi') throw new Error('not a forwarded multi');
    expect(message.write.request.ops.map((op) => (op.type === 'create' || op.type === 'setData' ? op.data : undefined))).toEqual([null, Buffer.alloc(0), null]);
  });

  const replies: ForwardReply[] = [
    { kind: 'proposed', index: 2 ** 40 + 7, term: 12 },
    { kind: 'rejected', error: ErrorCode.NodeExists, multi: null },
    { kind: 'rejected', error: ErrorCode.BadVersion, multi: { count: 4, failedAt: 2 } },
    { kind: 'unavailable', leader: 3 },
  ];
  for (const reply of replies) {
    test(`a ${reply.kind} reply${reply.kind === 'rejected' && reply.multi !== null ? ' of a multi' : ''} round-trips`, () => {
      expect(decode(encodeForwardReply(reply))).toEqual({ kind: 'reply', reply });
    });
  }

  test('a rejected multi is rebuilt on the follower exactly as the leader computed it', () => {
    const leaderSide = failedMultiResult(5, 3, ErrorCode.NoNode);
    const reply = replyOfRejection(ErrorCode.NoNode, leaderSide);
    const decoded = decode(encodeForwardReply(reply));
    if (decoded.kind !== 'reply' || decoded.reply.kind !== 'rejected') throw new Error('not a rejection');
    expect(multiOfReply(decoded.reply)).toEqual(leaderSide);
  });

  test('a ping batch round-trips and is bounded', () => {
    const ids = [1, 2 ** 46 + 5, 2 ** 52 + 9];
    expect(decode(encodeForwardPings(ids))).toEqual({ kind: 'pings', sessionIds: ids });
    expect(() => decodeForward(encodeForwardPings(ids), DEFAULT_TREE_OPTIONS, 2)).toThrow(DecodeError);
  });

  test('an attach round-trips', () => {
    expect(decode(encodeForwardAttach(2 ** 46 * 5 + 1))).toEqual({ kind: 'attach', sessionId: 2 ** 46 * 5 + 1 });
    expect(() => decode(new Uint8Array([...encodeForwardAttach(7), 0]))).toThrow(DecodeError);
  });

  test('empty, unknown-kind, truncated and padded payloads are refused', () => {
    expect(() => decode(new Uint8Array(0))).toThrow(DecodeError);
    expect(() => decode(new Uint8Array([42]))).toThrow(DecodeError);
    const reply = encodeForwardReply(replies[0]);
    expect(() => decode(reply.subarray(0, reply.length - 1))).toThrow(DecodeError);
    expect(() => decode(new Uint8Array([...reply, 0]))).toThrow(DecodeError);
    expect(() => decode(new Uint8Array([2, 9]))).toThrow(/reply kind/);
  });
});
