// Every operation: the request the client sends, and the value it makes of the reply.
import { describe, expect, test } from 'vitest';
import { CreateMode } from '../../src/protocol/types.js';
import { OPEN_ACL_UNSAFE, ZookError } from '../../src/client/index.js';
import { setup, str, text } from './support/harness.js';

describe('operations map to requests and decode replies', () => {
  test('create sends path, data, mode, acl and ttl and returns the path', async () => {
    const { server, zk } = await setup();
    const acl = [{ perms: 1, scheme: 'world', id: 'anyone' }];
    expect(await zk.create('/a', text('x'), { acl })).toBe('/a');
    expect(await zk.create('/t', 'y', { mode: 'PERSISTENT_WITH_TTL', ttlMs: 5000 })).toBe('/t');
    const [a, t] = server.requests('create').map((f) => f.request);
    expect(a).toEqual({ op: 'create', path: '/a', data: text('x'), acl, mode: CreateMode.PERSISTENT, ttlMs: 0, returnStat: false });
    expect(t).toMatchObject({ path: '/t', data: text('y'), acl: OPEN_ACL_UNSAFE, mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs: 5000 });
  });

  test('EPHEMERAL_SEQUENTIAL create returns the sequential name', async () => {
    const { server, zk } = await setup();
    await zk.create('/app');
    const first = await zk.create('/app/lock-', null, { mode: 'EPHEMERAL_SEQUENTIAL' });
    const second = await zk.create('/app/lock-', null, { mode: 'EPHEMERAL_SEQUENTIAL' });
    expect([first, second]).toEqual(['/app/lock-0000000000', '/app/lock-0000000001']);
    expect(server.requests('create')[1].request).toMatchObject({ mode: CreateMode.EPHEMERAL_SEQUENTIAL });
  });

  test('create2 and create { stat: true } return path and Stat', async () => {
    const { server, zk } = await setup();
    const a = await zk.create2('/a', 'abc');
    const b = await zk.create('/b', 'de', { stat: true });
    expect(a.path).toBe('/a');
    expect(a.stat).toMatchObject({ version: 0, dataLength: 3, numChildren: 0 });
    expect(b.stat.dataLength).toBe(2);
    expect(server.requests('create').map((f) => f.request)).toMatchObject([{ returnStat: true }, { returnStat: true }]);
  });

  test('getData returns data and Stat', async () => {
    const { server, zk } = await setup();
    await zk.create('/cfg', 'v1');
    const { data, stat } = await zk.getData('/cfg', { linearizable: true });
    expect(str(data)).toBe('v1');
    expect(stat.version).toBe(0);
    expect(server.requests('getData')[0]).toMatchObject({ linearizable: true, request: { op: 'getData', path: '/cfg', watch: false } });
  });

  test('setData sends the version and returns the new Stat', async () => {
    const { server, zk } = await setup();
    await zk.create('/cfg', 'v1');
    const stat = await zk.setData('/cfg', 'v2', { version: 0 });
    expect(stat.version).toBe(1);
    expect(server.requests('setData')[0].request).toEqual({ op: 'setData', path: '/cfg', data: text('v2'), version: 0 });
    await zk.setData('/cfg', text('v3'));
    expect(server.requests('setData')[1].request).toMatchObject({ version: -1 });
  });

  test('delete sends the version (-1 by default)', async () => {
    const { server, zk } = await setup();
    await zk.create('/a');
    await zk.create('/b');
    await zk.delete('/a', { version: 0 });
    await zk.delete('/b');
    expect(server.requests('delete').map((f) => f.request)).toEqual([
      { op: 'delete', path: '/a', version: 0 },
      { op: 'delete', path: '/b', version: -1 },
    ]);
    expect(await zk.exists('/a')).toBeNull();
  });

  test('exists returns the Stat, or null for a missing node', async () => {
    const { zk } = await setup();
    expect(await zk.exists('/nope')).toBeNull();
    await zk.create('/yes', 'x');
    expect((await zk.exists('/yes'))?.dataLength).toBe(1);
  });

  test('getChildren returns names; getChildren2 adds the parent Stat', async () => {
    const { server, zk } = await setup();
    await zk.create('/p');
    await zk.create('/p/a');
    await zk.create('/p/b');
    expect((await zk.getChildren('/p')).sort()).toEqual(['a', 'b']);
    const two = await zk.getChildren2('/p');
    expect(two.children.sort()).toEqual(['a', 'b']);
    expect(two.stat.numChildren).toBe(2);
    expect(server.requests('getChildren').map((f) => f.request)).toMatchObject([{ withStat: false, limit: 0 }, { withStat: true }]);
  });

  test('getChildrenPaged pages with after/limit until nextAfter is undefined', async () => {
    const { server, zk } = await setup();
    await zk.create('/p');
    for (const n of ['c', 'a', 'e', 'b', 'd']) await zk.create(`/p/${n}`);
    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const page = await zk.getChildrenPaged('/p', { limit: 2, ...(after === undefined ? {} : { after }) });
      pages.push(page.children);
      after = page.nextAfter;
    } while (after !== undefined);
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(server.requests('getChildren').map((f) => f.request)).toMatchObject([
      { after: '', limit: 2 },
      { after: 'b', limit: 2 },
      { after: 'd', limit: 2 },
    ]);
  });

  test('getAllChildrenNumber and getEphemerals', async () => {
    const { zk } = await setup();
    await zk.create('/p');
    await zk.create('/p/a');
    await zk.create('/p/a/b', null, { mode: 'EPHEMERAL' });
    expect(await zk.getAllChildrenNumber('/p')).toBe(2);
    expect(await zk.getEphemerals('/p')).toEqual(['/p/a/b']);
  });

  test('getACL and setACL (with version)', async () => {
    const { server, zk } = await setup();
    await zk.create('/a');
    const acl = [{ perms: 3, scheme: 'digest', id: 'u:hash' }];
    const stat = await zk.setACL('/a', acl, { version: 0 });
    expect(stat.aversion).toBe(1);
    expect(server.requests('setACL')[0].request).toEqual({ op: 'setACL', path: '/a', acl, version: 0 });
    expect(await zk.getACL('/a')).toMatchObject({ acl, stat: { aversion: 1 } });
  });

  test('sync, addAuth and whoAmI', async () => {
    const { server, zk } = await setup();
    await zk.sync('/a');
    await zk.addAuth('digest', 'alice:secret');
    expect(await zk.whoAmI()).toEqual([
      { scheme: 'ip', id: '127.0.0.1' },
      { scheme: 'digest', id: 'alice' },
    ]);
    expect(server.requests('sync')[0].request).toEqual({ op: 'sync', path: '/a' });
    expect(server.requests('addAuth')[0].request).toEqual({ op: 'addAuth', scheme: 'digest', auth: text('alice:secret') });
  });

  test('multi applies all ops and returns one result per op', async () => {
    const { server, zk } = await setup();
    await zk.create('/a', 'x');
    await zk.create('/gone');
    const results = await zk.multi([
      { op: 'check', path: '/a', version: 0 },
      { op: 'create', path: '/b', data: 'y', mode: 'EPHEMERAL' },
      { op: 'setData', path: '/a', data: 'z' },
      { op: 'delete', path: '/gone' },
    ]);
    expect(results).toEqual([{ op: 'check' }, { op: 'create', path: '/b' }, { op: 'setData', stat: expect.objectContaining({ version: 1 }) }, { op: 'delete' }]);
    expect(server.requests('multi')[0].request).toMatchObject({
      ops: [
        { op: 'check', path: '/a', version: 0 },
        { op: 'create', path: '/b', data: text('y'), mode: CreateMode.EPHEMERAL },
        { op: 'setData', path: '/a', data: text('z'), version: -1 },
        { op: 'delete', path: '/gone', version: -1 },
      ],
    });
  });

  test('a failed multi throws the failing op code with every op outcome, and applies nothing', async () => {
    const { zk } = await setup();
    await zk.create('/a');
    const error = await zk
      .multi([
        { op: 'create', path: '/b' },
        { op: 'check', path: '/a', version: 7 },
        { op: 'delete', path: '/a' },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZookError);
    const z = error as ZookError;
    expect(z.code).toBe('BadVersion');
    expect(z.path).toBe('/a');
    expect(z.results).toEqual([
      { op: 'create', path: '/b', code: 'Ok', errno: 0 },
      { op: 'check', path: '/a', code: 'BadVersion', errno: -103 },
      { op: 'delete', path: '/a', code: 'RuntimeInconsistency', errno: -2 },
    ]);
    expect(await zk.exists('/b')).toBeNull();
  });

  test('multiRead answers each read on its own', async () => {
    const { server, zk } = await setup();
    await zk.create('/a', 'x');
    await zk.create('/a/c');
    const results = await zk.multiRead([
      { op: 'getData', path: '/a' },
      { op: 'getChildren', path: '/a' },
      { op: 'getData', path: '/missing' },
    ]);
    expect(results[0]).toMatchObject({ op: 'getData', stat: { numChildren: 1 } });
    expect(str((results[0] as { data: Uint8Array }).data)).toBe('x');
    expect(results[1]).toEqual({ op: 'getChildren', children: ['c'] });
    expect(results[2]).toMatchObject({ op: 'getData', error: { code: 'NoNode', path: '/missing' } });
    expect(server.requests('multiRead')[0].request).toMatchObject({ ops: [{ op: 'getData' }, { op: 'getChildren' }, { op: 'getData' }] });
  });

  test('zxids and session ids above 2^32 come out as exact numbers', async () => {
    const { server, zk } = await setup();
    expect(zk.sessionId).toBe(2 ** 40 + 1);
    server.state.tree.zxid = 2 ** 45;
    const stat = await zk.create2('/big', null);
    expect(stat.stat.czxid).toBe(2 ** 45 + 1);
    expect(zk.lastZxidSeen).toBe(2 ** 45 + 1);
  });
});
