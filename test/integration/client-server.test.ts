// The TypeScript client against a real server process: what a user of `zook` sees.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type WatchEvent, type ZookClient, ZookError, connect } from '../../src/index.js';
import { freePort } from '../server/support/free-port.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { type ServerProcess, newDataDir, startServerProcess } from '../server/support/server-process.js';

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toSatisfy((e: unknown) => e instanceof ZookError && e.code === code);
}

function nextEvent(): { watcher: (e: WatchEvent) => void; event: Promise<WatchEvent> } {
  let resolve!: (e: WatchEvent) => void;
  const event = new Promise<WatchEvent>((r) => (resolve = r));
  return { watcher: (e) => resolve(e), event };
}

describe('client and server', () => {
  let server: ServerProcess;
  let zk: ZookClient;

  beforeAll(async () => {
    server = await startServerProcess();
    zk = await connect(server.url, { sessionTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    await zk.close();
    await server.stop();
    server.cleanup();
  });

  test('the README example runs as written', async () => {
    await zk.create('/app', '');
    await zk.create('/app/config', 'v1');
    const path = await zk.create('/app/lock-', 'me', { mode: 'EPHEMERAL_SEQUENTIAL' });
    expect(path).toMatch(/^\/app\/lock-\d{10}$/);
    const { data, stat } = await zk.getData('/app/config');
    expect(text(data)).toBe('v1');
    await zk.setData('/app/config', 'v2', { version: stat.version });
    await zk.delete(path, { version: -1 });
    expect(await zk.getChildren('/app')).toEqual(['config']);
    await zk.multi([
      { op: 'check', path: '/app/config', version: 1 },
      { op: 'create', path: '/app/b', data: 'x' },
    ]);
    expect((await zk.getChildren('/app')).sort()).toEqual(['b', 'config']);
  });

  test('errors are ZookErrors with ZooKeeper codes', async () => {
    await expectCode(zk.getData('/missing'), 'NoNode');
    await zk.create('/e', 'x');
    await expectCode(zk.create('/e', 'x'), 'NodeExists');
    await expectCode(zk.setData('/e', 'y', { version: 42 }), 'BadVersion');
    await zk.create('/e/child', '');
    await expectCode(zk.delete('/e'), 'NotEmpty');
    await zk.create('/eph', '', { mode: 'EPHEMERAL' });
    await expectCode(zk.create('/eph/child', ''), 'NoChildrenForEphemerals');
    await expectCode(zk.create('bad'), 'BadArguments');
  });

  test('a failed multi throws with every op\'s outcome and applies nothing', async () => {
    await zk.create('/mm', '');
    const error = await zk
      .multi([
        { op: 'create', path: '/mm/a', data: '' },
        { op: 'check', path: '/mm', version: 9 },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZookError);
    expect((error as ZookError).code).toBe('BadVersion');
    expect((error as ZookError).results?.map((r) => r.code)).toEqual(['Ok', 'BadVersion']);
    expect(await zk.exists('/mm/a')).toBeNull();
  });

  test('exists, getChildren2, paging, getAllChildrenNumber, getEphemerals, ACLs, sync and whoAmI', async () => {
    await zk.create('/many', '');
    for (let i = 0; i < 25; i++) await zk.create(`/many/c${String(i).padStart(2, '0')}`, '');
    expect((await zk.exists('/many'))?.numChildren).toBe(25);
    expect((await zk.getChildren2('/many')).stat.numChildren).toBe(25);
    const first = await zk.getChildrenPaged('/many', { limit: 10 });
    expect(first.children).toHaveLength(10);
    const second = await zk.getChildrenPaged('/many', { limit: 10, after: first.nextAfter! });
    expect(second.children[0]).toBe('c10');
    expect(await zk.getAllChildrenNumber('/many')).toBe(25);
    await zk.create('/many-eph', '', { mode: 'EPHEMERAL' });
    expect(await zk.getEphemerals('/many')).toContain('/many-eph');
    const { acl } = await zk.getACL('/many');
    expect(acl).toEqual([{ perms: 31, scheme: 'world', id: 'anyone' }]);
    await zk.sync('/');
    expect((await zk.whoAmI()).some((id) => id.scheme === 'ip')).toBe(true);
  });

  test('digest ACLs: another session without the credentials gets NoAuth', async () => {
    await zk.addAuth('digest', 'alice:secret');
    await zk.create('/private', 'shh', { acl: [{ perms: 31, scheme: 'auth', id: '' }] });
    const other = await connect(server.url);
    await expectCode(other.getData('/private'), 'NoAuth');
    await other.addAuth('digest', 'alice:secret');
    expect(text((await other.getData('/private')).data)).toBe('shh');
    await other.close();
  });

  test('a data watch fires once, for the change, before the watcher can read the new value', async () => {
    await zk.create('/w', 'a');
    const other = await connect(server.url);
    const seen: WatchEvent[] = [];
    const { watcher, event } = nextEvent();
    await other.getData('/w', {
      watch: (e) => {
        seen.push(e);
        watcher(e);
      },
    });
    await zk.setData('/w', 'b');
    await zk.setData('/w', 'c');
    expect(await event).toMatchObject({ type: 'NodeDataChanged', path: '/w' });
    expect(text((await other.getData('/w')).data)).toBe('c');
    expect(seen).toHaveLength(1);
    await other.close();
  });

  test('a persistent recursive watch sees creates and changes below its path', async () => {
    const other = await connect(server.url);
    const seen: string[] = [];
    await zk.create('/rec', '');
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await other.addWatch(
      '/rec',
      (e) => {
        seen.push(`${e.type} ${e.path}`);
        if (seen.length === 3) done();
      },
      { mode: 'PERSISTENT_RECURSIVE' },
    );
    await zk.create('/rec/a', '');
    await zk.create('/rec/a/b', '');
    await zk.setData('/rec/a/b', 'x');
    await finished;
    expect(seen).toEqual(['NodeCreated /rec/a', 'NodeCreated /rec/a/b', 'NodeDataChanged /rec/a/b']);
    await other.close();
  });

  test('closing a session removes its ephemerals and fires the watches on them', async () => {
    const owner = await connect(server.url);
    await owner.create('/owned', '', { mode: 'EPHEMERAL' });
    const { watcher, event } = nextEvent();
    await zk.exists('/owned', { watch: watcher });
    await owner.close();
    expect(await event).toMatchObject({ type: 'NodeDeleted', path: '/owned' });
    expect(await zk.exists('/owned')).toBeNull();
  });

  test('many requests pipelined on one connection all complete, in order', async () => {
    await zk.create('/pipelined', '');
    const paths = await Promise.all(Array.from({ length: 500 }, () => zk.create('/pipelined/n-', '', { mode: 'PERSISTENT_SEQUENTIAL' })));
    expect(paths).toEqual([...paths].sort());
    expect(new Set(paths).size).toBe(500);
  });
});

describe('client across server failures', () => {
  test('the client reconnects after kill -9 and a restart, keeping its session, ephemerals and watches', async () => {
    const port = await freePort();
    const dataDir = newDataDir();
    let server = await startServerProcess({ port, dataDir });
    const zk = await connect(`ws://127.0.0.1:${port}`, { sessionTimeoutMs: 20_000, reconnectBaseDelayMs: 50, reconnectMaxDelayMs: 200 });
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    await zk.create('/kept', 'v1');
    await zk.create('/mine', '', { mode: 'EPHEMERAL' });
    const { watcher, event } = nextEvent();
    await zk.getData('/kept', { watch: watcher });
    const sessionId = zk.sessionId;

    await server.kill9();
    server = await startServerProcess({ port, dataDir });
    // A write through the reconnected client: it fires the re-registered watch.
    await zk.setData('/kept', 'v2');
    expect(await event).toMatchObject({ type: 'NodeDataChanged', path: '/kept' });
    expect(zk.sessionId).toBe(sessionId);
    expect(await zk.exists('/mine')).not.toBeNull();
    expect(states).toContain('disconnected');
    expect(states[states.length - 1]).toBe('connected');
    await zk.close();
    await server.stop();
    server.cleanup();
  });

  test('a client cut off for longer than its session timeout is told its session expired, and its ephemerals are gone', async () => {
    const server = await startServerProcess({ tickMs: 100 });
    const proxy = await TcpProxy.start(server.port);
    const zk = await connect(`ws://127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 400, reconnectBaseDelayMs: 50, reconnectMaxDelayMs: 100 });
    const expired = new Promise<void>((resolve) => zk.on('state', (s) => s === 'expired' && resolve()));
    await zk.create('/gone', '', { mode: 'EPHEMERAL' });
    const observer = await connect(server.url, { sessionTimeoutMs: 4000 });
    const { watcher, event } = nextEvent();
    await observer.exists('/gone', { watch: watcher });
    proxy.cutLinks();
    // The server expires the silent session: its ephemeral goes.
    expect(await event).toMatchObject({ type: 'NodeDeleted', path: '/gone' });
    proxy.heal();
    await expired;
    await expectCode(zk.getData('/'), 'SessionExpired');
    await observer.close();
    await proxy.close();
    await server.stop();
    server.cleanup();
  });
});

describe('default limits agree', () => {
  test('a client with default settings pipelining far past the in-flight limit is never answered Throttled', async () => {
    const server = await startServerProcess();
    const zk = await connect(server.url);
    await zk.create('/flood', '');
    const results = await Promise.allSettled(Array.from({ length: 3000 }, () => zk.setData('/flood', 'x')));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await zk.close();
    await server.stop();
    server.cleanup();
  });
});
