// Watch semantics as ZooKeeper's: one-shot watchers fire once, persistent ones
// until removed, events come before the reply that shows the change, and the end
// of the session reaches every watcher.
import { describe, expect, test } from 'vitest';
import { EventType } from '../../src/protocol/types.js';
import type { WatchEvent } from '../../src/client/index.js';
import { client, recorder, setup } from './support/harness.js';

describe('watches', () => {
  test('a watch event is dispatched before a later reply resolves', async () => {
    const { server, zk } = await setup();
    await zk.create('/a', 'x');
    const order: string[] = [];
    await zk.getData('/a', { watch: (e) => order.push(`event ${e.type}`) });
    // The server sends the event and then the reply to the next read, back to back.
    server.onRequest = (frame, conn) => {
      if (frame.request.op !== 'getData') return false;
      conn.send({ kind: 'event', type: EventType.NodeDataChanged, path: '/a', zxid: 99 });
      server.reply(conn, frame.xid, 0, { kind: 'data', data: new Uint8Array([1]), stat: server.state.tree.stat('/a')! });
      return true;
    };
    await zk.getData('/a');
    order.push('reply');
    expect(order).toEqual(['event NodeDataChanged', 'reply']);
    expect(zk.lastZxidSeen).toBe(99);
  });

  test('the write that triggers a watch resolves after the watcher ran', async () => {
    const { zk } = await setup();
    await zk.create('/a', 'x');
    const order: string[] = [];
    await zk.exists('/a', { watch: () => order.push('event') });
    await zk.setData('/a', 'y');
    order.push('reply');
    expect(order).toEqual(['event', 'reply']);
  });

  test('a one-shot data watcher fires once', async () => {
    const { zk } = await setup();
    await zk.create('/a', 'x');
    const r = recorder();
    await zk.getData('/a', { watch: r.watcher });
    await zk.setData('/a', 'y');
    await zk.setData('/a', 'z');
    expect(r.events).toEqual([{ type: 'NodeDataChanged', path: '/a', zxid: 2, state: 'connected' }]);
  });

  test('one watcher set by getData and exists on one path fires once per event', async () => {
    const { zk } = await setup();
    await zk.create('/a', 'x');
    const r = recorder();
    await zk.getData('/a', { watch: r.watcher });
    await zk.exists('/a', { watch: r.watcher });
    await zk.delete('/a');
    expect(r.events.map((e) => e.type)).toEqual(['NodeDeleted']);
  });

  test('exists on a missing node watches for its creation', async () => {
    const { zk } = await setup();
    const r = recorder();
    expect(await zk.exists('/later', { watch: r.watcher })).toBeNull();
    await zk.create('/later');
    expect(r.events.map((e) => [e.type, e.path])).toEqual([['NodeCreated', '/later']]);
  });

  test('getData on a missing node sets no watch', async () => {
    const { zk } = await setup();
    const r = recorder();
    await expect(zk.getData('/nope', { watch: r.watcher })).rejects.toMatchObject({ code: 'NoNode' });
    await zk.create('/nope');
    await zk.setData('/nope', 'x');
    expect(r.events).toEqual([]);
  });

  test('a child watcher fires on a child created, and a data watcher on deletion', async () => {
    const { zk } = await setup();
    await zk.create('/p');
    const children = recorder();
    const data = recorder();
    await zk.getChildren('/p', { watch: children.watcher });
    await zk.create('/p/c');
    await zk.getData('/p/c', { watch: data.watcher });
    await zk.delete('/p/c');
    expect(children.events.map((e) => [e.type, e.path])).toEqual([['NodeChildrenChanged', '/p']]);
    expect(data.events.map((e) => [e.type, e.path])).toEqual([['NodeDeleted', '/p/c']]);
  });

  test('a persistent watcher fires on every change until removed', async () => {
    const { server, zk } = await setup();
    await zk.create('/cfg', '0');
    const r = recorder();
    await zk.addWatch('/cfg', r.watcher, { mode: 'PERSISTENT' });
    expect(server.requests('addWatch')[0].request).toEqual({ op: 'addWatch', path: '/cfg', mode: 0 });
    for (let i = 1; i <= 3; i++) await zk.setData('/cfg', String(i));
    expect(r.events.map((e) => e.type)).toEqual(['NodeDataChanged', 'NodeDataChanged', 'NodeDataChanged']);
    await zk.removeWatches('/cfg');
    expect(r.events.at(-1)).toMatchObject({ type: 'PersistentWatchRemoved', path: '/cfg' });
    await zk.setData('/cfg', '4');
    expect(r.events).toHaveLength(4);
    expect(server.requests('removeWatches')[0].request).toEqual({ op: 'removeWatches', path: '/cfg', watcherType: 3 });
  });

  test('a recursive watcher sees changes below its path but not child-list changes', async () => {
    const { server, zk } = await setup();
    await zk.create('/r');
    const r = recorder();
    await zk.addWatch('/r', r.watcher, { mode: 'PERSISTENT_RECURSIVE' });
    expect(server.requests('addWatch')[0].request).toMatchObject({ mode: 1 });
    await zk.create('/r/a');
    await zk.create('/r/a/b', 'x');
    await zk.setData('/r/a/b', 'y');
    await zk.delete('/r/a/b');
    await zk.create('/other');
    expect(r.events.map((e) => `${e.type} ${e.path}`)).toEqual([
      'NodeCreated /r/a',
      'NodeCreated /r/a/b',
      'NodeDataChanged /r/a/b',
      'NodeDeleted /r/a/b',
    ]);
  });

  test('removeWatches of a one-shot data watcher tells it and the server', async () => {
    const { server, zk } = await setup();
    await zk.create('/a');
    const r = recorder();
    await zk.getData('/a', { watch: r.watcher });
    await zk.removeWatches('/a', { type: 'data' });
    expect(r.events).toEqual([expect.objectContaining({ type: 'DataWatchRemoved', path: '/a' })]);
    expect(server.requests('removeWatches')[0].request).toEqual({ op: 'removeWatches', path: '/a', watcherType: 2 });
    await zk.setData('/a', 'x');
    expect(r.events).toHaveLength(1);
    await expect(zk.removeWatches('/a', { type: 'data' })).rejects.toMatchObject({ code: 'NoWatcher', path: '/a' });
  });

  test('removing one of two watchers on a path is local; the other still fires', async () => {
    const { server, zk } = await setup();
    await zk.create('/a');
    const one = recorder();
    const two = recorder();
    await zk.getData('/a', { watch: one.watcher });
    await zk.getData('/a', { watch: two.watcher });
    await zk.removeWatches('/a', { type: 'data', watcher: one.watcher });
    expect(server.requests('removeWatches')).toEqual([]);
    await zk.setData('/a', 'x');
    expect(one.events.map((e) => e.type)).toEqual(['DataWatchRemoved']);
    expect(two.events.map((e) => e.type)).toEqual(['NodeDataChanged']);
  });

  test('when the session expires every watcher gets one expired state event', async () => {
    const { server, zk } = await setup();
    await zk.create('/a');
    const oneShot = recorder();
    const persistent = recorder();
    await zk.getData('/a', { watch: oneShot.watcher });
    await zk.addWatch('/', persistent.watcher, { mode: 'PERSISTENT_RECURSIVE' });
    const expired: WatchEvent = { type: 'None', path: '', zxid: zk.lastZxidSeen, state: 'expired' };
    const seen = Promise.all([oneShot.next(), persistent.next()]);
    server.state.expire(zk.sessionId);
    expect(await seen).toEqual([expired, expired]);
    expect(oneShot.events).toHaveLength(1);
    expect(persistent.events).toHaveLength(1);
  });

  test('close() tells every watcher the session is closed', async () => {
    const { zk } = await setup();
    await zk.create('/a');
    const r = recorder();
    await zk.exists('/a', { watch: r.watcher });
    await zk.close();
    expect(r.events).toEqual([{ type: 'None', path: '', zxid: zk.lastZxidSeen, state: 'closed' }]);
  });

  test("another session's change fires this session's watcher", async () => {
    const { server, zk } = await setup();
    await zk.create('/a');
    const r = recorder();
    await zk.getData('/a', { watch: r.watcher });
    const other = await client(server.url);
    await other.setData('/a', 'x');
    expect(await r.next()).toMatchObject({ type: 'NodeDataChanged', path: '/a' });
  });
});
