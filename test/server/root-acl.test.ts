// The root cannot be locked for good (src/tree/system.ts): through both doors of a
// real server process, an anonymous setACL that leaves nobody ADMIN on / is
// refused with InvalidACL and / stays open; restricting / to yourself works, and
// you can open it again.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OPEN_ACL_UNSAFE, Perms, READ_ACL_UNSAFE, connect, isZookError, type ZookClient } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/index.js';
import { type Nzk, codeOf, connectNzk, zookeeper } from '../zookeeper/support/nzk.js';
import { type ServerProcess, startServerProcess } from './support/server-process.js';

let server: ServerProcess;
let ws: ZookClient;
let zk: Nzk;

beforeAll(async () => {
  server = await startServerProcess();
  ws = await connect(server.url);
  zk = await connectNzk(`127.0.0.1:${server.zkPort}`);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled([ws?.close(), zk?.close()]);
  await server?.stop();
  server?.cleanup();
});

const { ACL, Id, Permission } = zookeeper;

describe('setACL on / through a server', () => {
  test('zook client: world:anyone:r on / is InvalidACL, / keeps world:anyone:cdrwa and takes creates', async () => {
    await expect(ws.setACL('/', READ_ACL_UNSAFE)).rejects.toSatisfy((e) => isZookError(e, 'InvalidACL'));
    expect((await ws.getACL('/')).acl).toEqual(OPEN_ACL_UNSAFE);
    expect(await ws.create('/open-after-ws', '')).toBe('/open-after-ws');
  });

  test('ZooKeeper door (node-zookeeper-client): world:anyone:r on / is InvalidACL (-114), / keeps world:anyone:cdrwa', async () => {
    await expect(zk.setACL('/', [new ACL(Permission.READ, new Id('world', 'anyone'))])).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.InvalidACL);
    const acl = (await zk.getACL('/')) as { permission: number; id: { scheme: string; id: string } }[];
    expect(acl.map((a) => [a.permission, a.id.scheme, a.id.id])).toEqual([[Perms.ALL, 'world', 'anyone']]);
    expect(await zk.create('/open-after-zk')).toBe('/open-after-zk');
  });

  test('ZooKeeper door: after addauth, auth::cdrwa plus world read on / is taken; others get NoAuth; the owner opens it again', async () => {
    const owner = await connectNzk(`127.0.0.1:${server.zkPort}`);
    try {
      owner.raw.addAuthInfo('digest', Buffer.from('ops:secret'));
      await owner.setACL('/', [new ACL(Permission.ALL, new Id('auth', '')), new ACL(Permission.READ, new Id('world', 'anyone'))]);
      await expect(zk.create('/while-restricted')).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.NoAuth);
      await expect(zk.setACL('/', [new ACL(Permission.ALL, new Id('world', 'anyone'))])).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.NoAuth);
      await owner.setACL('/', [new ACL(Permission.ALL, new Id('world', 'anyone'))]);
      expect(await zk.create('/after-reopen')).toBe('/after-reopen');
    } finally {
      await owner.close();
    }
  });

  test('zook client: /zookeeper cannot be deleted and cannot be set read-only by an anonymous session', async () => {
    await expect(ws.delete('/zookeeper')).rejects.toSatisfy((e) => isZookError(e, 'BadArguments'));
    await expect(ws.setACL('/zookeeper', [{ perms: Perms.READ, scheme: 'world', id: 'anyone' }])).rejects.toSatisfy((e) => isZookError(e, 'InvalidACL'));
  });
});
