// A multi with an invalid path anywhere fails whole with BadArguments before
// anything is sent, as ZooKeeper's Java client does (ZooKeeper.multi(ops, cb, ctx)
// -> validatePath: BadArguments for each invalid op, RuntimeInconsistency for
// every other). One behaviour per test.
import { describe, expect, test } from 'vitest';
import { isZookError, type MultiOp } from '../../src/client/index.js';
import { failure, setup } from './support/harness.js';

describe('multi: client-side path validation', () => {
  test('an invalid path in op 1 fails the multi with BadArguments at op 1, even though op 0 would fail on the server with BadVersion', async () => {
    const { zk } = await setup();
    await zk.create('/a');
    const e = await failure(
      zk.multi([
        { op: 'check', path: '/a', version: 7 },
        { op: 'create', path: '/b//c' },
      ]),
    );
    expect([e.code, e.errno, e.path]).toEqual(['BadArguments', -8, '/b//c']);
    expect(isZookError(e, 'BadArguments')).toBe(true);
    expect(e.results).toEqual([
      { op: 'check', path: '/a', code: 'RuntimeInconsistency', errno: -2 },
      { op: 'create', path: '/b//c', code: 'BadArguments', errno: -8 },
    ]);
    expect(e.message).toContain('op 1 (create)');
  });

  test('a multi with an invalid path sends nothing and changes nothing', async () => {
    const { server, zk } = await setup();
    const e = await failure(
      zk.multi([
        { op: 'create', path: '/x' },
        { op: 'delete', path: 'relative' },
      ]),
    );
    expect(e.code).toBe('BadArguments');
    expect(server.requests('multi')).toEqual([]);
    expect(await zk.exists('/x')).toBeNull();
  });

  test('every invalid op is marked BadArguments and every valid one RuntimeInconsistency; the error names the first invalid op', async () => {
    const { zk } = await setup();
    const e = await failure(
      zk.multi([
        { op: 'create', path: '/ok' },
        { op: 'setData', path: '/a/', data: 'x' },
        { op: 'check', path: '/fine', version: 0 },
        { op: 'delete', path: '/a/./b' },
      ]),
    );
    expect(e.path).toBe('/a/');
    expect(e.results?.map((r) => r.code)).toEqual(['RuntimeInconsistency', 'BadArguments', 'RuntimeInconsistency', 'BadArguments']);
  });

  test.each<[string, MultiOp]>([
    ['create', { op: 'create', path: '/a\u0000' }],
    ['delete', { op: 'delete', path: '//a' }],
    ['setData', { op: 'setData', path: '/..', data: 'x' }],
    ['check', { op: 'check', path: '', version: -1 }],
  ])('an invalid path in a %s op is caught', async (_kind, op) => {
    const { server, zk } = await setup();
    const e = await failure(zk.multi([op]));
    expect(e.results).toEqual([{ op: op.op, path: op.path, code: 'BadArguments', errno: -8 }]);
    expect(server.requests('multi')).toEqual([]);
  });

  test('a sequential create is checked with its suffix: "/app/" is valid for a sequential create and sent', async () => {
    const { server, zk } = await setup();
    await zk.create('/app');
    const results = await zk.multi([{ op: 'create', path: '/app/', mode: 'PERSISTENT_SEQUENTIAL' }]);
    expect(results).toEqual([{ op: 'create', path: '/app/0000000000' }]);
    expect(server.requests('multi')).toHaveLength(1);
  });

  test('"/app/" is invalid for a non-sequential create', async () => {
    const { zk } = await setup();
    expect((await failure(zk.multi([{ op: 'create', path: '/app/' }]))).code).toBe('BadArguments');
  });

  test('a path that is not a string (a JavaScript caller) is BadArguments, not a crash', async () => {
    const { server, zk } = await setup();
    const op = { op: 'delete', path: undefined } as unknown as MultiOp;
    const e = await failure(zk.multi([{ op: 'create', path: '/x' }, op]));
    expect(e.results?.map((r) => r.code)).toEqual(['RuntimeInconsistency', 'BadArguments']);
    expect(server.requests('multi')).toEqual([]);
  });

  test('paths valid by ZooKeeper rules are not refused by the client ("/...", "/.x", "/zookeeper/quota/q")', async () => {
    const { server, zk } = await setup();
    await zk.multi([
      { op: 'create', path: '/...' },
      { op: 'create', path: '/.x' },
      { op: 'create', path: '/zookeeper/quota/q' },
    ]);
    expect(server.requests('multi')).toHaveLength(1);
    expect(await zk.exists('/zookeeper/quota/q')).not.toBeNull();
  });
});
