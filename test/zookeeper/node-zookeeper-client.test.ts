// A third-party ZooKeeper client from npm (node-zookeeper-client) against a real zook
// server process over ZooKeeper's TCP protocol: the calls an application makes, and
// the same world as zook's own WebSocket clients.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../src/index.js';
import { ErrorCode } from '../../src/protocol/index.js';
import { OpCode } from '../../src/zookeeper/records.js';
import type { JuteWriter } from '../../src/zookeeper/jute.js';
import { type ServerProcess, startServerProcess } from '../server/support/server-process.js';
import { untilTrue } from '../support/until.js';
import { type Nzk, codeOf, connectNzk, zookeeper } from './support/nzk.js';
import { RawZkClient, body } from './support/raw-zk.js';

let server: ServerProcess;
let a: Nzk;
let b: Nzk;
let ws: ZookClient;

beforeAll(async () => {
  // Ticks of 200 ms: sessions may be 400 ms .. 4 s, so an expiry test is quick.
  server = await startServerProcess({ tickMs: 200 });
  const connectString = `127.0.0.1:${server.zkPort}`;
  a = await connectNzk(connectString);
  b = await connectNzk(connectString);
  ws = await connect(server.url, { sessionTimeoutMs: 4000 });
});

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close(), ws?.close()]);
  await server?.stop();
  server?.cleanup();
});

const { CreateMode, ACL, Id, Permission } = zookeeper;

describe('node-zookeeper-client over ZooKeeper protocol', () => {
  test('creates, reads, updates with versions and deletes a znode', async () => {
    expect(await a.create('/crud', 'v0')).toBe('/crud');
    const first = await a.getData('/crud');
    expect(first.data).toBe('v0');
    expect(first.stat.version).toBe(0);
    expect((await a.setData('/crud', 'v1', 0)).version).toBe(1);
    await expect(a.setData('/crud', 'v2', 0)).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.BadVersion);
    await expect(a.remove('/crud', 7)).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.BadVersion);
    await a.remove('/crud', 1);
    expect(await a.exists('/crud')).toBeNull();
  });

  test('errors carry ZooKeeper codes: NoNode, NodeExists, NotEmpty', async () => {
    await expect(a.getData('/missing')).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.NoNode);
    await a.create('/errs');
    await expect(a.create('/errs')).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.NodeExists);
    await a.create('/errs/child');
    await expect(a.remove('/errs')).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.NotEmpty);
  });

  test('the root lists /zookeeper, as on a ZooKeeper server', async () => {
    expect(await a.getChildren('/')).toContain('zookeeper');
    expect(await a.getChildren('/zookeeper')).toEqual(['config', 'quota']);
  });

  test('sequential nodes get ZooKeeper-style ten-digit suffixes', async () => {
    await a.create('/seq');
    const first = await a.create('/seq/n-', '', CreateMode.PERSISTENT_SEQUENTIAL);
    const second = await a.create('/seq/n-', '', CreateMode.EPHEMERAL_SEQUENTIAL);
    expect(first).toBe('/seq/n-0000000000');
    expect(second).toBe('/seq/n-0000000001');
  });

  test('a digest ACL refuses other sessions until they add the right auth', async () => {
    const acl = [new ACL(Permission.ALL, new Id('digest', 'alice:' + digestOf('alice', 'secret')))];
    a.raw.addAuthInfo('digest', Buffer.from('alice:secret'));
    await a.create('/acl-node', 'private', CreateMode.PERSISTENT, acl);
    await expect(b.getData('/acl-node')).rejects.toSatisfy((e) => codeOf(e) === ErrorCode.NoAuth);
    expect((await a.getData('/acl-node')).data).toBe('private');
    const readBack = (await a.getACL('/acl-node')) as Array<{ permission: number; id: { scheme: string; id: string } }>;
    expect(readBack.map((x) => [x.permission, x.id.scheme, x.id.id])).toEqual([[31, 'digest', 'alice:' + digestOf('alice', 'secret')]]);
    const c = await connectNzk(`127.0.0.1:${server.zkPort}`);
    c.raw.addAuthInfo('digest', Buffer.from('alice:secret'));
    expect((await c.getData('/acl-node')).data).toBe('private');
    await c.close();
  });

  test('a one-shot data watch fires once, on the next change only', async () => {
    await a.create('/watched', 'x');
    const events: string[] = [];
    await a.getData('/watched', (e) => events.push(`${e.name} ${e.path}`));
    await b.setData('/watched', 'y');
    await untilTrue('events.length === 1', () => events.length === 1);
    await b.setData('/watched', 'z');
    await b.create('/watched-sync'); // a later write by the same writer: events before it were sent
    await a.exists('/watched-sync');
    expect(events).toEqual(['NODE_DATA_CHANGED /watched']);
  });

  test('an exists watch on a missing node fires NodeCreated; a child watch fires NodeChildrenChanged', async () => {
    const events: string[] = [];
    expect(await a.exists('/later', (e) => events.push(`${e.name} ${e.path}`))).toBeNull();
    await a.create('/parent');
    await a.getChildren('/parent', (e) => events.push(`${e.name} ${e.path}`));
    await b.create('/later');
    await b.create('/parent/kid');
    await untilTrue('events.length === 2', () => events.length === 2);
    expect(events).toEqual(['NODE_CREATED /later', 'NODE_CHILDREN_CHANGED /parent']);
  });

  test('a multi commits all its ops under one zxid, and a failed one reports each op as ZooKeeper does', async () => {
    await a.create('/tx');
    const ok = await new Promise<Array<{ type: number; path?: string }>>((resolve, reject) =>
      a.raw.transaction().create('/tx/a').create('/tx/b').setData('/tx', Buffer.from('d'), -1).commit((e: unknown, r: Array<{ type: number; path?: string }>) => (e ? reject(e) : resolve(r))),
    );
    expect(ok.map((r) => r.type)).toEqual([OpCode.create, OpCode.create, OpCode.setData]);
    const [ta, tb] = [(await a.exists('/tx/a'))!, (await a.exists('/tx/b'))!];
    expect(ta.version).toBe(0);
    expect(tb).not.toBeNull();
    const failed = await new Promise<{ error: unknown; results: Array<{ type: number; err: number }> }>((resolve) =>
      a.raw.transaction().create('/tx/c').setData('/tx/a', Buffer.from('x'), 5).remove('/tx/b').commit((error: unknown, results: Array<{ type: number; err: number }>) => resolve({ error, results })),
    );
    expect(codeOf(failed.error)).toBe(ErrorCode.BadVersion);
    expect(failed.results.map((r) => r.err)).toEqual([0, ErrorCode.BadVersion, ErrorCode.RuntimeInconsistency]);
    expect(await a.exists('/tx/c')).toBeNull();
  });
});

describe('one world with the WebSocket clients', () => {
  test('a watch set over TCP fires on a write made over WebSocket', async () => {
    await a.create('/cross-1', 'a');
    const events: string[] = [];
    await a.getData('/cross-1', (e) => events.push(`${e.name} ${e.path}`));
    await ws.setData('/cross-1', 'from websocket');
    await untilTrue('events.length === 1', () => events.length === 1);
    expect(events).toEqual(['NODE_DATA_CHANGED /cross-1']);
    expect((await a.getData('/cross-1')).data).toBe('from websocket');
  });

  test('a watch set over WebSocket fires on a write made over TCP', async () => {
    await ws.create('/cross-2', 'w');
    const events: string[] = [];
    await ws.getData('/cross-2', { watch: (e) => events.push(`${e.type} ${e.path}`) });
    await a.setData('/cross-2', 'from tcp');
    await untilTrue('events.length === 1', () => events.length === 1);
    expect(events).toEqual(['NodeDataChanged /cross-2']);
  });
});

describe('null data (a null buffer, length -1)', () => {
  test('a node created over TCP with null data reads back over TCP as a null buffer (length -1), and over WebSocket as empty bytes', async () => {
    const { client } = await RawZkClient.session(server.zkPort);
    try {
      expect((await client.request(OpCode.create, body.create('/null-data', null))).err).toBe(0);
      const reply = await client.request(OpCode.getData, body.pathWatch('/null-data', false));
      expect([reply.err, Buffer.from(reply.body).readInt32BE(0)]).toEqual([0, -1]);
    } finally {
      await client.close();
    }
    const r = await ws.getData('/null-data');
    expect([r.data, r.stat.dataLength]).toEqual([new Uint8Array(0), 0]);
  });
});

describe('raw ZooKeeper protocol: what the 3.4-era npm client cannot send', () => {
  test('a persistent recursive watch (addWatch) sees every change below its path and stays', async () => {
    const { client } = await RawZkClient.session(server.zkPort);
    await a.create('/tree');
    expect((await client.request(OpCode.addWatch, body.addWatch('/tree', 1))).err).toBe(0);
    await b.create('/tree/x');
    await b.create('/tree/x/y');
    await b.setData('/tree/x', 'changed');
    await untilTrue('client.events.length === 3', () => client.events.length === 3);
    expect(client.events.map((e) => [e.type, e.path])).toEqual([
      [1, '/tree/x'],
      [1, '/tree/x/y'],
      [3, '/tree/x'],
    ]);
    await client.close();
  });

  test('checkWatches answers NoWatcher for a path without a watch, Ok for a watched one', async () => {
    const { client } = await RawZkClient.session(server.zkPort);
    await a.create('/cw');
    expect((await client.request(OpCode.checkWatches, body.watchType('/cw', 2))).err).toBe(ErrorCode.NoWatcher);
    await client.request(OpCode.getData, body.pathWatch('/cw', true));
    expect((await client.request(OpCode.checkWatches, body.watchType('/cw', 2))).err).toBe(0);
    expect((await client.request(OpCode.removeWatches, body.watchType('/cw', 2))).err).toBe(0);
    expect((await client.request(OpCode.checkWatches, body.watchType('/cw', 2))).err).toBe(ErrorCode.NoWatcher);
    await client.close();
  });

  test('sync answers with its path', async () => {
    const { client } = await RawZkClient.session(server.zkPort);
    const reply = await client.request(OpCode.sync, body.path('/'));
    expect(reply.err).toBe(0);
    expect(Buffer.from(reply.body).subarray(4).toString()).toBe('/');
    await client.close();
  });

  test('an ephemeral made over TCP vanishes when its session expires', async () => {
    const { client, session } = await RawZkClient.session(server.zkPort, { timeoutMs: 400 });
    expect(session.timeoutMs).toBe(400);
    expect((await client.request(OpCode.create, body.create('/ephemeral-tcp', 'e', 1))).err).toBe(0);
    const events: string[] = [];
    expect(await a.exists('/ephemeral-tcp', (e) => events.push(e.name))).not.toBeNull();
    client.destroy(); // no closeSession: the session must expire
    await untilTrue('events.length === 1', () => events.length === 1, 10_000);
    expect(events).toEqual(['NODE_DELETED']);
  });

  test('reconnecting with an expired session gets timeout 0 (the client reports SessionExpired)', async () => {
    const { client, session } = await RawZkClient.session(server.zkPort, { timeoutMs: 400 });
    await client.close();
    const again = await RawZkClient.open(server.zkPort);
    const answer = await again.handshake({ resume: session });
    expect(answer.timeoutMs).toBe(0);
    expect(answer.sessionId).toBe(0);
    await again.closed;
  });

  test('a session resumed on a new connection keeps its ephemerals; its watches left with the old connection, as in ZooKeeper', async () => {
    const { client, session } = await RawZkClient.session(server.zkPort, { timeoutMs: 4000 });
    await client.request(OpCode.create, body.create('/resume-eph', '', 1));
    await client.request(OpCode.addWatch, body.addWatch('/resume-gone', 0));
    client.destroy();
    const { client: again, session: resumed } = await RawZkClient.session(server.zkPort, { resume: session });
    expect(resumed.sessionId).toBe(session.sessionId);
    expect(await a.exists('/resume-eph')).not.toBeNull();
    await a.create('/resume-gone');
    // A watch would have fired before this reply (events go out in order with replies).
    expect((await again.request(OpCode.exists, body.pathWatch('/', false))).err).toBe(0);
    expect(again.events).toEqual([]);
    await again.close();
  });

  test('setWatches2 on a resumed session replays what its persistent watch missed while away (relZxid), then goes on live', async () => {
    const { client, session } = await RawZkClient.session(server.zkPort, { timeoutMs: 4000 });
    const added = await client.request(OpCode.addWatch, body.addWatch('/resume-watch', 0));
    client.destroy();
    await a.create('/resume-watch', '1');
    await a.setData('/resume-watch', '2');
    const { client: again } = await RawZkClient.session(server.zkPort, { resume: session, lastZxidSeen: added.zxid });
    // What the Java client sends on reconnect: relZxid (the last zxid it saw), then the five lists.
    const lists = (w: JuteWriter): void => void w.long(added.zxid).int(0).int(0).int(0).int(1).ustring('/resume-watch').int(0);
    expect((await again.request(OpCode.setWatches2, lists, -8)).err).toBe(0);
    expect(again.events).toMatchObject([
      { type: 1, path: '/resume-watch' },
      { type: 3, path: '/resume-watch' },
    ]);
    await a.setData('/resume-watch', '3');
    await untilTrue('the live event', () => again.events.length === 3);
    expect(again.events[2]).toMatchObject({ type: 3, path: '/resume-watch' });
    await again.close();
  });

  test('whoAmI lists the ip id and each added digest identity by its user name (ZooKeeper\'s ClientInfo)', async () => {
    const { client } = await RawZkClient.session(server.zkPort);
    await client.request(OpCode.auth, (w) => void w.int(0).ustring('digest').buffer(Buffer.from('bob:pw')), -4);
    const reply = await client.request(OpCode.whoAmI, body.none());
    expect(reply.err).toBe(0);
    const text = Buffer.from(reply.body).toString('latin1');
    expect(text).toContain('ip');
    expect(text).toContain('digest');
    expect(text).toContain('bob');
    expect(text).not.toContain(digestOf('bob', 'pw'));
    await client.close();
  });

  test('5,000 pipelined requests (past maxInFlight 1,000) are all answered in order: TCP pushes back, nothing is Throttled', async () => {
    const { client } = await RawZkClient.session(server.zkPort);
    await a.create('/pipelined', 'p');
    const replies = await Promise.all(Array.from({ length: 5000 }, (_, i) => client.request(i % 2 === 0 ? OpCode.exists : OpCode.getData, body.pathWatch('/pipelined', false), i + 1)));
    expect(replies.map((r) => r.xid)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(replies.filter((r) => r.err !== 0)).toEqual([]);
    await client.close();
  });

  test('reconfig is refused with ReconfigDisabled and SASL with AuthFailed; the connection stays', async () => {
    const { client } = await RawZkClient.session(server.zkPort);
    const reconfig = await client.request(OpCode.reconfig, (w) => void w.ustring(null).ustring(null).ustring('server.9=x').long(-1));
    expect(reconfig.err).toBe(ErrorCode.ReconfigDisabled);
    expect((await client.request(OpCode.sasl, (w) => void w.buffer(new Uint8Array(4)))).err).toBe(ErrorCode.AuthFailed);
    expect((await client.request(OpCode.exists, body.pathWatch('/', false))).err).toBe(0);
    await client.close();
  });
});

/** ZooKeeper's digest: base64(sha1("user:password")). */
function digestOf(user: string, password: string): string {
  return createHash('sha1').update(`${user}:${password}`).digest('base64');
}
