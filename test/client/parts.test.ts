// The client's parts on their own: server lists, backoff, the watch registry, the
// WHATWG WebSocket transport.
import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { backoffDelayMs } from '../../src/util/backoff.js';
import { webSocketTransport, type WebSocketConstructor } from '../../src/client/index.js';
import { parseServers, ServerList } from '../../src/client/servers.js';
import { WatchRegistry } from '../../src/client/watches.js';
import { EventType } from '../../src/protocol/types.js';
import { SeededRandom } from '../../src/util/random.js';
import { seeded } from '../support/seeded.js';
import { client, startServers, str } from './support/harness.js';

describe('server list', () => {
  test('parses a comma-separated list, an array, and bare host:port', () => {
    expect(parseServers('ws://a:1, ws://b:2,c:3')).toEqual(['ws://a:1', 'ws://b:2', 'ws://c:3']);
    expect(parseServers(['wss://a:1', 'ws://b:2,ws://c:3'])).toEqual(['wss://a:1', 'ws://b:2', 'ws://c:3']);
  });

  test('rejects an empty list and non-WebSocket URLs', () => {
    expect(() => parseServers('')).toThrow(TypeError);
    expect(() => parseServers(' , ')).toThrow(TypeError);
    expect(() => parseServers('http://a:1')).toThrow(/ws:\/\//);
  });

  test('cycles through the servers, after one reproducible shuffle', () => {
    const plain = new ServerList(['a', 'b', 'c'], false, Math.random);
    expect([plain.next(), plain.next(), plain.next(), plain.next()]).toEqual(['a', 'b', 'c', 'a']);
    const urls = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const order = (seed: number): string[] => {
      const rng = new SeededRandom(seed);
      const list = new ServerList(urls, true, () => rng.next());
      return urls.map(() => list.next());
    };
    expect(order(1)).toEqual(order(1));
    expect([...order(1)].sort()).toEqual(urls);
    expect(order(1)).not.toEqual(order(2));
  });
});

describe('backoff', () => {
  test('doubles per failure, is capped, and stays in [cap/2, cap) whatever the random source gives', () => {
    seeded(11, (rng) => {
      const opts = { baseDelayMs: 100, maxDelayMs: 5000, random: () => rng.next() };
      for (let failures = 0; failures < 40; failures++) {
        const cap = Math.min(5000, 100 * 2 ** failures);
        const d = backoffDelayMs(failures, opts);
        expect(d).toBeGreaterThanOrEqual(cap / 2);
        expect(d).toBeLessThanOrEqual(cap);
      }
    });
    expect(backoffDelayMs(0, { baseDelayMs: 100, maxDelayMs: 5000, random: () => 0 })).toBe(50);
    expect(backoffDelayMs(3, { baseDelayMs: 100, maxDelayMs: 5000, random: () => 0 })).toBe(400);
    expect(backoffDelayMs(50, { baseDelayMs: 100, maxDelayMs: 5000, random: () => 0.999 })).toBeLessThanOrEqual(5000);
  });
});

describe('watch registry', () => {
  const noop = (): void => undefined;

  test('NodeDeleted takes data, exist and child watchers; persistent ones stay', () => {
    const reg = new WatchRegistry();
    const [d, e, c, p] = [() => 1, () => 2, () => 3, () => 4];
    reg.add('data', '/a', d);
    reg.add('exist', '/a', e);
    reg.add('child', '/a', c);
    reg.add('persistent', '/a', p);
    expect(reg.take(EventType.NodeDeleted, '/a')).toEqual([d, e, c, p]);
    expect(reg.take(EventType.NodeDeleted, '/a')).toEqual([p]);
    expect(reg.size).toBe(1);
  });

  test('NodeChildrenChanged takes only child watchers and skips recursive ones', () => {
    const reg = new WatchRegistry();
    const [d, c, r] = [() => 1, () => 2, () => 3];
    reg.add('data', '/a', d);
    reg.add('child', '/a', c);
    reg.add('recursive', '/', r);
    expect(reg.take(EventType.NodeChildrenChanged, '/a')).toEqual([c]);
    expect(reg.take(EventType.NodeDataChanged, '/a')).toEqual([d, r]);
  });

  test('setWatches requests are split so none is too big for the server', () => {
    const reg = new WatchRegistry();
    for (let i = 0; i < 25_000; i++) reg.add('data', `/n/${i}`, noop);
    for (let i = 0; i < 10; i++) reg.add('child', `/c/${i}`, noop);
    const requests = reg.setWatchesRequests(42);
    expect(requests.length).toBeGreaterThan(2);
    const all = requests.flatMap((r) => [...r.dataWatches, ...r.childWatches]);
    expect(all).toHaveLength(25_010);
    for (const r of requests) {
      expect(r.relativeZxid).toBe(42);
      expect(r.dataWatches.length + r.existWatches.length + r.childWatches.length).toBeLessThanOrEqual(10_000);
    }
  });

  test('nothing to re-register means no setWatches request', () => {
    expect(new WatchRegistry().setWatchesRequests(1)).toEqual([]);
  });
});

describe('transport', () => {
  test('the WHATWG WebSocket transport (as browsers have it) carries a whole session', async () => {
    const [server] = await startServers(1);
    // ws's WebSocket class implements the WHATWG interface: a stand-in for the browser's.
    const zk = await client(server.url, { transport: webSocketTransport(WebSocket as unknown as WebSocketConstructor) });
    await zk.create('/b', 'browser');
    expect(str((await zk.getData('/b')).data)).toBe('browser');
  });
});
