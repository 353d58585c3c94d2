// The ensemble file: what is accepted, what is refused and with which message.
import { describe, expect, test } from 'vitest';
import { clientAddresses, zkAddresses, ensembleServer, initialMembership, isEnsembleFile, parseEnsemble } from '../../../src/server/cluster/ensemble.js';

const secret = 'a-secret-of-enough-length';
const server = (id: number, extra: Record<string, unknown> = {}) => ({ id, host: '127.0.0.1', clientPort: 2180 + id, peerPort: 2880 + id, ...extra });

describe('ensemble file', () => {
  test('a valid file gives servers, the first membership and shared settings', () => {
    const e = parseEnsemble({ clusterId: 'c', secret, servers: [server(1), server(2), server(3), server(4, { role: 'learner' }), server(5, { joining: true })], tickMs: 500 });
    expect(e.clusterId).toBe('c');
    expect(initialMembership(e)).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(e.settings).toEqual({ tickMs: 500 });
    expect(ensembleServer(e, 5).joining).toBe(true);
    expect(clientAddresses(e)).toEqual(['127.0.0.1:2181', '127.0.0.1:2182', '127.0.0.1:2183', '127.0.0.1:2184', '127.0.0.1:2185']);
    expect(isEnsembleFile({ servers: [] })).toBe(true);
    expect(e.servers.map((s) => s.zkPort)).toEqual([2181, 2181, 2181, 2181, 2181]);
  });

  test('zkPort is per server: the ZooKeeper connect string lists host:zkPort', () => {
    const e = parseEnsemble({ secret, servers: [server(1, { zkPort: 12181 }), server(2, { zkPort: 12182 })] });
    expect(zkAddresses(e)).toEqual(['127.0.0.1:12181', '127.0.0.1:12182']);
    expect(() => parseEnsemble({ secret, servers: [server(1, { zkPort: 0 })] })).toThrow(/zkPort/);
    expect(isEnsembleFile({ port: 2181 })).toBe(false);
  });

  const bad: [string, unknown, RegExp][] = [
    ['a short secret', { secret: 'short', servers: [server(1)] }, /secret/],
    ['no servers', { secret, servers: [] }, /servers/],
    ['a duplicate id', { secret, servers: [server(1), server(1)] }, /twice/],
    ['an id over 127', { secret, servers: [server(200)] }, /1\.\.127/],
    ['a bad port', { secret, servers: [server(1, { peerPort: 70000 })] }, /peerPort/],
    ['an unknown role', { secret, servers: [server(1, { role: 'observer' })] }, /role/],
    ['no first voter', { secret, servers: [server(1, { role: 'learner' }), server(2, { joining: true })] }, /voter/],
  ];
  for (const [what, value, message] of bad) {
    test(`${what} is refused, naming the problem`, () => {
      expect(() => parseEnsemble(value)).toThrow(message);
    });
  }

  test('asking for a server that is not listed names the ids that are', () => {
    const e = parseEnsemble({ secret, servers: [server(1), server(2)] });
    expect(() => ensembleServer(e, 9)).toThrow(/ids: 1, 2/);
  });
});
