import { describe, expect, test } from 'vitest';
import { DecodeError, NodeKind, decodeTxn, encodeTxn, type Txn } from '../../src/tree/index.js';
import { bytes } from './harness.js';
import { seeded } from '../support/seeded.js';

const acl = [{ perms: 31, scheme: 'world', id: 'anyone' }, { perms: 1, scheme: 'digest', id: 'u:abc=' }];
const SAMPLES: Txn[] = [
  { type: 'create', path: '/a/b0000000012', sequentialPrefix: '/a/b', data: bytes('hello'), acl, kind: NodeKind.Ephemeral, ephemeralOwner: 2 ** 52, ttlMs: 0, timeMs: 1_700_000_000_123 },
  { type: 'create', path: '/ttl', sequentialPrefix: '', data: new Uint8Array(), acl, kind: NodeKind.Ttl, ephemeralOwner: 0, ttlMs: 2 ** 40 - 1, timeMs: 0 },
  { type: 'delete', path: '/ünï', version: -1, timeMs: 5 },
  { type: 'delete', path: '/' + 'long'.repeat(60), version: 1, timeMs: 5 },
  { type: 'delete', path: '/' + 'é'.repeat(100), version: 1, timeMs: 5 },
  { type: 'setData', path: '/a', data: new Uint8Array(300).fill(9), version: 2 ** 31 - 1, timeMs: 5 },
  { type: 'setACL', path: '/a', acl, version: -2, timeMs: 5 },
  { type: 'sync', path: '/', timeMs: 5 },
  { type: 'setData', path: '/a', data: bytes('z'), version: -1, timeMs: 5, authIds: [] },
  { type: 'delete', path: '/a', version: -1, timeMs: 5, authIds: [{ scheme: 'digest', id: 'u:abc=' }, { scheme: 'ip', id: '10.0.0.1' }] },
  { type: 'createSession', sessionId: 77, timeoutMs: 30_000, timeMs: 5 },
  { type: 'closeSession', sessionId: 77, timeMs: 5 },
  {
    type: 'multi',
    ops: [
      { type: 'check', path: '/a', version: 3 },
      { type: 'create', path: '/c', sequentialPrefix: '', data: bytes('x'), acl, kind: NodeKind.Container, ephemeralOwner: 0, ttlMs: 0 },
      { type: 'delete', path: '/d', version: -1 },
      { type: 'setData', path: '/e', data: bytes('y'), version: 0 },
    ],
    timeMs: 99,
  },
  { type: 'multi', ops: [], timeMs: 1 },
  // Null data (ZooKeeper's null buffer): its own tags, no data field.
  { type: 'create', path: '/null', sequentialPrefix: '', data: null, acl, kind: NodeKind.Persistent, ephemeralOwner: 0, ttlMs: 0, timeMs: 7 },
  { type: 'setData', path: '/null', data: null, version: 4, timeMs: 7, authIds: [] },
];

/** Buffers and Uint8Arrays with the same bytes compare equal; absent and undefined fields too. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

describe('txn codec', () => {
  test.each(SAMPLES.map((t) => [t.type, t] as const))('%s round-trips exactly', (_type, txn) => {
    expect(plain(decodeTxn(encodeTxn(txn)))).toEqual(plain(txn));
  });

  test('truncated input throws DecodeError, never anything else', () => {
    for (const txn of SAMPLES) {
      const encoded = encodeTxn(txn);
      for (let cut = 0; cut < encoded.length; cut++) expect(() => decodeTxn(encoded.subarray(0, cut))).toThrow(DecodeError);
    }
  });

  test('random garbage throws DecodeError or decodes; it never crashes otherwise', () => {
    seeded(31, (rng) => {
      for (let i = 0; i < 2000; i++) {
        const junk = rng.bytes(rng.int(40));
        if (junk.length > 0) junk[0] = 1;
        try {
          decodeTxn(junk);
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError);
        }
      }
    });
  });

  test('lengths beyond the limits are refused', () => {
    const big = encodeTxn({ type: 'setData', path: '/a', data: new Uint8Array(100), version: 0, timeMs: 0 });
    expect(() => decodeTxn(big, { ...defaults(), maxDataBytes: 99 })).toThrow(DecodeError);
  });
});

import { DEFAULT_TREE_OPTIONS } from '../../src/tree/index.js';
function defaults() {
  return DEFAULT_TREE_OPTIONS;
}
