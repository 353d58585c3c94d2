// Server error codes become ZookErrors with ZooKeeper's name, number and the path.
import { describe, expect, test } from 'vitest';
import { isZookError } from '../../src/client/index.js';
import { failure, setup } from './support/harness.js';

describe('errors', () => {
  test('NoNode from getData carries code, errno and path', async () => {
    const { zk } = await setup();
    const e = await failure(zk.getData('/missing'));
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.errno, e.path, e.name]).toEqual(['NoNode', -101, '/missing', 'ZookError']);
    expect(e.message).toContain('NoNode');
    expect(isZookError(e, 'NoNode')).toBe(true);
    expect(isZookError(e, 'BadVersion')).toBe(false);
  });

  test('NodeExists, BadVersion, NotEmpty and NoChildrenForEphemerals keep their names', async () => {
    const { zk } = await setup();
    await zk.create('/a');
    await zk.create('/a/b');
    await zk.create('/e', null, { mode: 'EPHEMERAL' });
    expect((await failure(zk.create('/a'))).code).toBe('NodeExists');
    expect((await failure(zk.setData('/a', 'x', { version: 5 }))).code).toBe('BadVersion');
    expect((await failure(zk.delete('/a'))).code).toBe('NotEmpty');
    expect((await failure(zk.create('/e/x'))).code).toBe('NoChildrenForEphemerals');
    expect((await failure(zk.delete('/nope', { version: 1 }))).code).toBe('NoNode');
  });

  test('an unknown error number keeps its number', async () => {
    const { server, zk } = await setup();
    server.onRequest = (frame, conn) => {
      server.reply(conn, frame.xid, -999);
      return true;
    };
    const e = await failure(zk.sync('/'));
    expect([e.code, e.errno]).toEqual(['Unknown(-999)', -999]);
  });

  test('a reply of the wrong kind is a MarshallingError, not a crash', async () => {
    const { server, zk } = await setup();
    server.onRequest = (frame, conn) => {
      server.reply(conn, frame.xid, 0, { kind: 'empty' });
      return true;
    };
    expect((await failure(zk.getData('/a'))).code).toBe('MarshallingError');
  });

  test('bad arguments are rejected before anything is sent', async () => {
    const { server, zk } = await setup();
    // @ts-expect-error: not a create mode
    await expect(zk.create('/a', null, { mode: 'FOREVER' })).rejects.toThrow(TypeError);
    await expect(zk.getChildrenPaged('/', { limit: 0 })).rejects.toThrow(RangeError);
    expect(server.requests()).toEqual([]);
  });
});
