// The forwarded write's binary form: every request kind survives the round trip,
// and bad bytes are refused with DecodeError, never a crash or a partial request.
import { describe, expect, test } from 'vitest';
import { DEFAULT_TREE_OPTIONS, DecodeError, OPEN_ACL_UNSAFE, decodeWriteRequest, encodeWriteRequest, type RequestSession, type WriteRequest } from '../../src/tree/index.js';

const session: RequestSession = { id: 2 ** 46 * 3 + 12345, authIds: [{ scheme: 'ip', id: '127.0.0.1' }, { scheme: 'digest', id: 'bob:x' }] };
const data = new Uint8Array([1, 2, 3, 250]);

/** Decoded data is a Buffer (a Uint8Array subclass): compare bytes, not classes. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const requests: WriteRequest[] = [
  { type: 'create', path: '/a/b', data, acl: OPEN_ACL_UNSAFE, mode: 0 },
  { type: 'create', path: '/ttl-', data, acl: OPEN_ACL_UNSAFE, mode: 6, ttlMs: 5000 },
  { type: 'delete', path: '/a', version: -1 },
  { type: 'setData', path: '/a', data, version: 7 },
  { type: 'setACL', path: '/a', acl: [{ perms: 1, scheme: 'world', id: 'anyone' }], version: 2 },
  { type: 'sync', path: '/' },
  { type: 'createSession', sessionId: 99, timeoutMs: 4000 },
  { type: 'closeSession', sessionId: 99 },
  { type: 'create', path: '/null', data: null, acl: OPEN_ACL_UNSAFE, mode: 0 },
  { type: 'setData', path: '/null', data: null, version: -1 },
  {
    type: 'multi',
    ops: [
      { type: 'check', path: '/a', version: 3 },
      { type: 'create', path: '/a/c', data, acl: OPEN_ACL_UNSAFE, mode: 1 },
      { type: 'delete', path: '/a/d', version: -1 },
      { type: 'setData', path: '/a', data, version: -1 },
    ],
  },
];

describe('write request codec', () => {
  for (const request of requests) {
    const note = request.type === 'create' && request.ttlMs !== undefined ? ' (with a TTL)' : (request.type === 'create' || request.type === 'setData') && request.data === null ? ' (null data)' : '';
    test(`a ${request.type} request and its session survive the round trip${note}`, () => {
      const decoded = decodeWriteRequest(encodeWriteRequest(session, request));
      expect(decoded.session).toEqual(session);
      expect(plain(decoded.request)).toEqual(plain(request));
    });
  }

  test('every truncation of a valid request is refused with DecodeError', () => {
    const bytes = encodeWriteRequest(session, requests[requests.length - 1]);
    for (let cut = 0; cut < bytes.length; cut++) expect(() => decodeWriteRequest(bytes.subarray(0, cut))).toThrow(DecodeError);
  });

  test('trailing bytes, an unknown format and an unknown tag are refused', () => {
    const bytes = encodeWriteRequest(session, requests[2]);
    expect(() => decodeWriteRequest(new Uint8Array([...bytes, 0]))).toThrow(DecodeError);
    expect(() => decodeWriteRequest(new Uint8Array([9, ...bytes.subarray(1)]))).toThrow(/format/);
    const noAuth = encodeWriteRequest({ id: 1, authIds: [] }, { type: 'sync', path: '/' });
    const badTag = noAuth.slice();
    badTag[3] = 77;
    expect(() => decodeWriteRequest(badTag)).toThrow(/tag/);
  });

  test('a check outside a multi is refused', () => {
    const multi = encodeWriteRequest({ id: 1, authIds: [] }, { type: 'multi', ops: [{ type: 'check', path: '/a', version: 1 }] });
    // Drop the multi tag and count: what is left is a lone check.
    const lone = new Uint8Array([...multi.subarray(0, 3), ...multi.subarray(5)]);
    expect(() => decodeWriteRequest(lone)).toThrow(/check outside a multi/);
  });

  test('lengths are bounded by the tree options: data over maxDataBytes is refused', () => {
    const big = encodeWriteRequest(session, { type: 'setData', path: '/a', data: new Uint8Array(2048), version: -1 });
    expect(() => decodeWriteRequest(big, { ...DEFAULT_TREE_OPTIONS, maxDataBytes: 1024 })).toThrow(DecodeError);
  });
});
