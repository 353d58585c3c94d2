// The configuration watcher against a real server: it never hands out a mix of two
// versions while a writer changes several keys per multi; writes are version-checked.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigWatcher, isZookError, type ConfigSnapshot, type ZookClient } from '../../src/index.js';
import { clientState, nextCall, startTestServer, type TestServer } from './support.js';

describe('ConfigWatcher', () => {
  let t: TestServer;
  let zk: ZookClient;
  beforeAll(async () => {
    t = await startTestServer();
    zk = await t.connect();
  });
  afterAll(async () => t.stop());

  test('readers only ever see whole multis: every snapshot has all keys at one version', async () => {
    const writes = 150;
    const writerClient = await t.connect();
    const writer = new ConfigWatcher(writerClient, '/cfg');
    await writer.start();
    await writer.write({ 'db/host': '0', 'db/port': '0', 'cache/size': '0', flag: '0' });
    const readers = await Promise.all(Array.from({ length: 3 }, async () => new ConfigWatcher(await t.connect(), '/cfg')));
    const seen: ConfigSnapshot[][] = readers.map(() => []);
    const finished = readers.map(
      (r, i) =>
        new Promise<void>((resolve) => {
          r.on('change', (s) => {
            seen[i].push(s);
            if (s.text('flag') === String(writes)) resolve();
          });
        }),
    );
    await Promise.all(readers.map((r) => r.start()));
    // Pipelined multis (in order, per session), so many land between two reads of a reader.
    const keys = ['db/host', 'db/port', 'cache/size', 'flag'];
    await Promise.all(
      Array.from({ length: writes }, (_, i) => writerClient.multi(keys.map((k) => ({ op: 'setData' as const, path: `/cfg/${k}`, data: String(i + 1) })))),
    );
    await Promise.all(finished);
    for (const snapshots of seen) {
      expect(snapshots.length).toBeGreaterThan(1);
      let lastZxid = 0;
      let lastValue = -1;
      for (const s of snapshots) {
        const values = ['db/host', 'db/port', 'cache/size', 'flag'].map((k) => s.text(k));
        expect(new Set(values).size, `mixed snapshot at zxid ${s.zxid}: ${values.join(',')}`).toBe(1);
        expect(s.zxid).toBeGreaterThan(lastZxid);
        expect(Number(values[0])).toBeGreaterThanOrEqual(lastValue);
        lastZxid = s.zxid;
        lastValue = Number(values[0]);
      }
    }
    await Promise.all([...readers, writer].map((r) => r.close()));
  });

  test('keys added and removed in one multi appear and disappear together', async () => {
    const w = new ConfigWatcher(zk, '/shape');
    await w.start();
    const reader = new ConfigWatcher(await t.connect(), '/shape');
    await reader.start();
    let change = nextCall<[ConfigSnapshot]>();
    reader.on('change', (s) => change.listener(s));
    await w.update(() => ({ 'a/x': '1', 'a/y': '1', 'b/z': '1' }));
    let snap = (await change.called)[0];
    expect(snap.keys()).toEqual(['a', 'a/x', 'a/y', 'b', 'b/z']);
    change = nextCall<[ConfigSnapshot]>();
    await w.update(() => ({ 'a/x': null, 'a/y': null, 'b/z': '2' }));
    snap = (await change.called)[0];
    expect(snap.keys()).toEqual(['a', 'b', 'b/z']);
    expect(snap.text('b/z')).toBe('2');
    // A delete alone is a new version too (the parent's pzxid moves).
    change = nextCall<[ConfigSnapshot]>();
    await w.update(() => ({ 'b/z': null }));
    const afterDelete = (await change.called)[0];
    expect(afterDelete.keys()).toEqual(['a', 'b']);
    expect(afterDelete.zxid).toBeGreaterThan(snap.zxid);
    await Promise.all([w.close(), reader.close()]);
  });

  test('deleting the whole subtree is published as an empty snapshot with a newer zxid', async () => {
    const w = new ConfigWatcher(zk, '/doomed');
    const first = await w.start();
    await w.write({ a: '1' });
    const change = nextCall<[ConfigSnapshot]>();
    w.on('change', (s) => s.entries.size === 0 && change.listener(s));
    await zk.multi([
      { op: 'delete', path: '/doomed/a' },
      { op: 'delete', path: '/doomed' },
    ]);
    const gone = (await change.called)[0];
    expect(gone.zxid).toBeGreaterThan(first.zxid);
    expect(gone.keys()).toEqual([]);
    await w.close();
  });

  test('a watcher whose link drops catches up on reconnect with the changes made meanwhile', async () => {
    const writer = new ConfigWatcher(zk, '/away');
    await writer.start();
    await writer.write({ k: '1' });
    const { zk: c, proxy } = await t.connectCuttable({ sessionTimeoutMs: 2000 });
    const reader = new ConfigWatcher(c, '/away');
    expect((await reader.start()).text('k')).toBe('1');
    const disconnected = clientState(c, 'disconnected');
    proxy.cutLinks();
    await disconnected;
    await writer.update(() => ({ k: '2', extra: 'x' }));
    const change = nextCall<[ConfigSnapshot]>();
    reader.on('change', change.listener);
    proxy.heal();
    const snap = (await change.called)[0];
    expect([snap.text('k'), snap.text('extra')]).toEqual(['2', 'x']);
    await Promise.all([writer.close(), reader.close()]);
  });

  test('write() and update() resolve with current already including the write, its change event emitted', async () => {
    const watcher = new ConfigWatcher(zk, '/ryw');
    await watcher.start();
    const seen: string[] = [];
    watcher.on('change', (s) => seen.push(`${s.text('a')}/${s.text('b')}`));
    for (let i = 0; i < 20; i++) {
      await watcher.write({ a: String(i) });
      expect(watcher.current!.text('a')).toBe(String(i));
      await watcher.update((s) => ({ b: String(Number(s.text('b') ?? '0') + 1) }));
      expect(watcher.current!.text('b')).toBe(String(i + 1));
    }
    expect(seen.at(-1)).toBe('19/20');
    await watcher.close();
  });

  test('a write based on a stale snapshot fails with BadVersion; update() retries and wins', async () => {
    const a = new ConfigWatcher(zk, '/cas');
    const b = new ConfigWatcher(await t.connect(), '/cas');
    await a.start();
    await a.write({ n: '0' });
    const stale = await b.start();
    await a.update((s) => ({ n: String(Number(s.text('n')) + 1) }));
    const error = await b.write({ n: 'lost update' }, { basedOn: stale }).catch((e: unknown) => e);
    expect(isZookError(error, 'BadVersion') || isZookError(error, 'NodeExists')).toBe(true);
    // Concurrent increments through update() all land.
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).update((s) => ({ n: String(Number(s.text('n')) + 1) }))));
    expect((await a.readConsistent()).text('n')).toBe('11');
    await Promise.all([a.close(), b.close()]);
  });
});
