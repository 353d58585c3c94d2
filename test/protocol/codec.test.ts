import * as flatbuffers from 'flatbuffers';
import { describe, expect, test } from 'vitest';
import {
  type ClientFrame,
  type ClientRequest,
  type ServerFrame,
  type Stat,
  CreateMode,
  DEFAULT_DECODE_LIMITS,
  ProtocolError,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
} from '../../src/protocol/index.js';
import { ErrorCode } from '../../src/tree/errors.js';
import { seeded } from '../support/seeded.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const stat: Stat = {
  czxid: 1,
  mzxid: 2,
  pzxid: 3,
  ctime: 1_700_000_000_000,
  mtime: 1_700_000_000_001,
  version: 4,
  cversion: 5,
  aversion: 6,
  ephemeralOwner: 2 ** 40 + 7,
  dataLength: 3,
  numChildren: 8,
};
const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }];

const REQUESTS: ClientRequest[] = [
  { op: 'create', path: '/a', data: bytes(1, 2), acl, mode: CreateMode.EPHEMERAL_SEQUENTIAL, ttlMs: 0, returnStat: true },
  { op: 'create', path: '/ttl', data: bytes(), acl, mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 60_000, returnStat: false },
  { op: 'delete', path: '/a', version: -1 },
  { op: 'exists', path: '/a', watch: true },
  { op: 'getData', path: '/a', watch: false },
  { op: 'setData', path: '/a', data: bytes(9), version: 3 },
  { op: 'getChildren', path: '/', watch: true, withStat: true, after: 'n-5', limit: 100 },
  { op: 'getChildren', path: '/', watch: false, withStat: false, after: '', limit: 0 },
  { op: 'getAllChildrenNumber', path: '/a' },
  { op: 'getEphemerals', prefix: '/app' },
  { op: 'getACL', path: '/a' },
  { op: 'setACL', path: '/a', acl: [...acl, { perms: 1, scheme: 'ip', id: '10.0.0.0/8' }], version: 0 },
  { op: 'sync', path: '/' },
  {
    op: 'multi',
    ops: [
      { op: 'check', path: '/a', version: 1 },
      { op: 'create', path: '/b', data: bytes(1), acl, mode: CreateMode.PERSISTENT, ttlMs: 0, returnStat: false },
      { op: 'setData', path: '/a', data: bytes(2), version: -1 },
      { op: 'delete', path: '/c', version: 2 },
    ],
  },
  {
    op: 'multiRead',
    ops: [
      { op: 'getData', path: '/a', watch: false },
      { op: 'getChildren', path: '/', watch: false, withStat: false, after: '', limit: 0 },
    ],
  },
  { op: 'addAuth', scheme: 'digest', auth: new TextEncoder().encode('user:pw') },
  { op: 'addWatch', path: '/cfg', mode: 1 },
  { op: 'removeWatches', path: '/cfg', watcherType: 3 },
  { op: 'whoAmI' },
  { op: 'ping' },
  { op: 'closeSession' },
  {
    op: 'setWatches',
    relativeZxid: 99,
    dataWatches: ['/a'],
    existWatches: ['/b', '/c'],
    childWatches: [],
    persistentWatches: ['/p'],
    persistentRecursiveWatches: ['/r'],
  },
];

const SERVER_FRAMES: ServerFrame[] = [
  { kind: 'connected', protocolVersion: 1, sessionId: 12345, password: bytes(1, 2, 3), sessionTimeoutMs: 10_000, serverId: 2, epoch: 7 },
  { kind: 'reply', xid: 1, zxid: 10, error: 0, response: { kind: 'create', path: '/a0000000001', stat } },
  { kind: 'reply', xid: 2, zxid: 10, error: 0, response: { kind: 'create', path: '/b' } },
  { kind: 'reply', xid: 3, zxid: 10, error: 0, response: { kind: 'stat', stat } },
  { kind: 'reply', xid: 4, zxid: 10, error: 0, response: { kind: 'data', data: bytes(5, 6), stat } },
  { kind: 'reply', xid: 5, zxid: 10, error: 0, response: { kind: 'children', children: ['x', 'y'], stat, nextAfter: 'y' } },
  { kind: 'reply', xid: 6, zxid: 10, error: 0, response: { kind: 'children', children: [] } },
  { kind: 'reply', xid: 7, zxid: 10, error: 0, response: { kind: 'count', count: 1_000_000 } },
  { kind: 'reply', xid: 8, zxid: 10, error: 0, response: { kind: 'paths', paths: ['/e1', '/e2'] } },
  { kind: 'reply', xid: 9, zxid: 10, error: 0, response: { kind: 'acl', acl, stat } },
  { kind: 'reply', xid: 10, zxid: 10, error: 0, response: { kind: 'sync', path: '/' } },
  { kind: 'reply', xid: 11, zxid: 10, error: 0, response: { kind: 'empty' } },
  { kind: 'reply', xid: 12, zxid: 10, error: 0, response: { kind: 'whoAmI', ids: [{ scheme: 'ip', id: '127.0.0.1' }] } },
  {
    kind: 'reply',
    xid: 13,
    zxid: 10,
    error: ErrorCode.NoNode,
    response: { kind: 'multi', results: [{ error: 0 }, { error: ErrorCode.NoNode }, { error: ErrorCode.RuntimeInconsistency }] },
  },
  {
    kind: 'reply',
    xid: 14,
    zxid: 11,
    error: 0,
    response: {
      kind: 'multi',
      results: [
        { error: 0, response: { kind: 'create', path: '/b' } },
        { error: 0, response: { kind: 'stat', stat } },
        { error: 0, response: { kind: 'empty' } },
      ],
    },
  },
  { kind: 'reply', xid: 15, zxid: 12, error: ErrorCode.BadVersion },
  { kind: 'event', type: 3, path: '/a', zxid: 13 },
  { kind: 'close', error: ErrorCode.SessionExpired, reason: 'session expired' },
];

describe('protocol codec', () => {
  test.each(REQUESTS.map((r) => [r.op, r] as const))('a %s request round-trips', (_op, request) => {
    const frame: ClientFrame = { kind: 'request', xid: 77, linearizable: true, request };
    expect(decodeClientFrame(encodeClientFrame(frame))).toEqual(frame);
  });

  test('a connect frame round-trips with session, password, timeout, last zxid and auth', () => {
    const frame: ClientFrame = {
      kind: 'connect',
      protocolVersion: 1,
      sessionId: 2 ** 50,
      password: bytes(1, 2, 3, 4),
      sessionTimeoutMs: 30_000,
      lastZxidSeen: 123_456,
      auth: [{ scheme: 'digest', auth: bytes(65, 66) }],
    };
    expect(decodeClientFrame(encodeClientFrame(frame))).toEqual(frame);
  });

  test.each(SERVER_FRAMES.map((f, i) => [`${f.kind} #${i}`, f] as const))('server frame %s round-trips', (_name, frame) => {
    expect(decodeServerFrame(encodeServerFrame(frame))).toEqual(frame);
  });

  test('this protocol has no null data: null data (from the ZooKeeper door) is answered as empty bytes', () => {
    const decoded = decodeServerFrame(encodeServerFrame({ kind: 'reply', xid: 4, zxid: 10, error: 0, response: { kind: 'data', data: null, stat } }));
    expect(decoded.kind === 'reply' && decoded.response?.kind === 'data' && decoded.response.data).toEqual(new Uint8Array(0));
  });

  test('decoded byte fields are copies, not views into the frame', () => {
    const encoded = encodeClientFrame({ kind: 'request', xid: 1, linearizable: false, request: { op: 'setData', path: '/a', data: bytes(1, 2, 3), version: -1 } }).slice();
    const decoded = decodeClientFrame(encoded);
    encoded.fill(0);
    expect(decoded.kind === 'request' && decoded.request.op === 'setData' && [...(decoded.request.data ?? [])]).toEqual([1, 2, 3]);
  });

  test('a multi over the op limit is refused with BadArguments', () => {
    const ops = Array.from({ length: DEFAULT_DECODE_LIMITS.maxMultiOps + 1 }, () => ({ op: 'check' as const, path: '/a', version: 1 }));
    const encoded = encodeClientFrame({ kind: 'request', xid: 1, linearizable: false, request: { op: 'multi', ops } });
    expect(() => decodeClientFrame(encoded)).toThrow(expect.objectContaining({ code: ErrorCode.BadArguments }));
  });

  test('an unknown create mode is refused with BadArguments', () => {
    const encoded = encodeClientFrame({
      kind: 'request',
      xid: 1,
      linearizable: false,
      request: { op: 'create', path: '/a', data: bytes(), acl, mode: 9 as never, ttlMs: 0, returnStat: false },
    });
    expect(() => decodeClientFrame(encoded)).toThrow(expect.objectContaining({ code: ErrorCode.BadArguments }));
  });

  test('a server frame is refused where a client frame is expected, and the other way round', () => {
    expect(() => decodeClientFrame(encodeServerFrame(SERVER_FRAMES[1]))).toThrow(ProtocolError);
    expect(() => decodeServerFrame(encodeClientFrame({ kind: 'request', xid: 1, linearizable: false, request: { op: 'ping' } }))).toThrow(ProtocolError);
  });

  test('frames too short to hold a root are MarshallingError', () => {
    for (const length of [0, 1, 4, 7]) {
      expect(() => decodeClientFrame(new Uint8Array(length))).toThrow(expect.objectContaining({ code: ErrorCode.MarshallingError }));
    }
  });

  test('random bytes and damaged frames either decode or throw ProtocolError, never anything else', () => {
    const valid = REQUESTS.map((request) => encodeClientFrame({ kind: 'request', xid: 5, linearizable: false, request }).slice());
    seeded(60, (rng) => {
      for (let i = 0; i < 20_000; i++) {
        let input: Uint8Array;
        if (i % 4 === 0) input = rng.bytes(rng.int(200));
        else {
          input = rng.pick(valid).slice();
          const flips = rng.between(1, 4);
          for (let f = 0; f < flips; f++) input[rng.int(input.length)] = rng.int(256);
          if (rng.int(4) === 0) input = input.subarray(0, rng.int(input.length));
        }
        try {
          decodeClientFrame(input);
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw new Error(`decode threw ${String(error)} for ${Buffer.from(input).toString('hex')}`);
        }
      }
    });
  });

  test('the builder can be reused: each encode starts clean', () => {
    const builder = new flatbuffers.Builder(16);
    const a = encodeClientFrame({ kind: 'request', xid: 1, linearizable: false, request: { op: 'sync', path: '/x' } }, builder).slice();
    const b = encodeClientFrame({ kind: 'request', xid: 2, linearizable: false, request: { op: 'ping' } }, builder).slice();
    expect(decodeClientFrame(a)).toEqual({ kind: 'request', xid: 1, linearizable: false, request: { op: 'sync', path: '/x' } });
    expect(decodeClientFrame(b)).toEqual({ kind: 'request', xid: 2, linearizable: false, request: { op: 'ping' } });
  });
});
