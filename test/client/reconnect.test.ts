// Connection loss: failover, session resumption, watch re-registration, and what
// happens to calls in flight and calls made while disconnected.
import { describe, expect, test } from 'vitest';
import { connect, type ZookError } from '../../src/client/index.js';
import { FakeServer, FakeState } from './support/fake-server.js';
import { client, nextState, recorder, setup, startServers, TEST_OPTIONS } from './support/harness.js';

/** A URL nobody listens on: a server started and stopped. */
async function deadUrl(): Promise<string> {
  const s = await FakeServer.start();
  await s.stop();
  return s.url;
}

describe('failover', () => {
  test('connect skips a dead server and uses the next one in the list', async () => {
    const dead = await deadUrl();
    const [alive] = await startServers(1);
    const zk = await client(`${dead},${alive.url}`);
    expect(zk.currentServer).toBe(alive.url);
    expect(zk.state).toBe('connected');
  });

  test('an array of servers works like a comma-separated string', async () => {
    const dead = await deadUrl();
    const [alive] = await startServers(1);
    const zk = await client([dead, alive.url]);
    expect(zk.currentServer).toBe(alive.url);
  });

  test('when its server dies the client moves to the next one and keeps its session', async () => {
    const [a, b] = await startServers(2);
    const zk = await client([a.url, b.url]);
    expect(zk.currentServer).toBe(a.url);
    const id = zk.sessionId;
    const states: string[] = [];
    zk.on('state', (s) => states.push(s));
    const back = nextState(zk, 'connected');
    await a.stop();
    await back;
    expect(states).toEqual(['disconnected', 'connected']);
    expect(zk.currentServer).toBe(b.url);
    expect(zk.sessionId).toBe(id);
    expect(b.connects()[0]).toMatchObject({ sessionId: id });
  });

  test('connect fails with ConnectionLoss when no server answers within connectTimeoutMs', async () => {
    const dead = await deadUrl();
    const error = (await connect(dead, { ...TEST_OPTIONS, connectTimeoutMs: 100 }).catch((e: unknown) => e)) as ZookError;
    expect(error.code).toBe('ConnectionLoss');
    expect(error.message).toContain(dead);
  });

  test('a server that never answers the handshake is given up on after handshakeTimeoutMs', async () => {
    const [mute, good] = await startServers(2);
    mute.onConnect = () => 'ignore';
    const zk = await client([mute.url, good.url], { handshakeTimeoutMs: 200 });
    expect(zk.currentServer).toBe(good.url);
    expect(mute.connects().length).toBeGreaterThanOrEqual(1);
  });
});

describe('reconnect', () => {
  test('resumes the session with its id, password and the last zxid seen', async () => {
    const { server, zk } = await setup();
    await zk.create('/a', 'x');
    await zk.setData('/a', 'y');
    const zxid = zk.lastZxidSeen;
    expect(zxid).toBe(server.state.tree.zxid);
    const back = nextState(zk, 'connected');
    server.dropConnections();
    await back;
    const [first, second] = server.connects();
    expect(first).toMatchObject({ sessionId: 0, lastZxidSeen: 0, sessionTimeoutMs: 10_000 });
    expect(second.sessionId).toBe(zk.sessionId);
    expect(second.password).toEqual(zk.sessionPassword);
    expect(second.lastZxidSeen).toBe(zxid);
  });

  test('waits a backoff drawn from the injected random source before reconnecting', async () => {
    const draws: number[] = [];
    const { server, zk } = await setup({
      reconnectBaseDelayMs: 20,
      random: () => {
        draws.push(0);
        return 0;
      },
    });
    const disconnectedAt = { t: 0 };
    zk.on('state', (s) => {
      if (s === 'disconnected') disconnectedAt.t = performance.now();
    });
    const back = nextState(zk, 'connected');
    server.dropConnections();
    await back;
    expect(draws.length).toBeGreaterThanOrEqual(1);
    // random() = 0 gives the low end of the first delay: baseDelayMs / 2.
    expect(performance.now() - disconnectedAt.t).toBeGreaterThanOrEqual(9);
  });

  test('sends the credentials from connect options and from addAuth again on every reconnect', async () => {
    const { server, zk } = await setup({ auth: [{ scheme: 'digest', auth: 'boot:pw' }] });
    await zk.addAuth('digest', 'alice:pw');
    const back = nextState(zk, 'connected');
    server.dropConnections();
    await back;
    const [first, second] = server.connects();
    const decode = (a: { scheme: string; auth: Uint8Array }[]): string[] => a.map((x) => `${x.scheme} ${new TextDecoder().decode(x.auth)}`);
    expect(decode([...first.auth])).toEqual(['digest boot:pw']);
    expect(decode([...second.auth])).toEqual(['digest boot:pw', 'digest alice:pw']);
  });

  test('re-sends every watch with setWatches (relativeZxid = last zxid seen), and they fire afterwards', async () => {
    const { server, zk } = await setup();
    await zk.create('/a', 'x');
    await zk.create('/p');
    const data = recorder();
    const child = recorder();
    const exist = recorder();
    const persistent = recorder();
    const recursive = recorder();
    await zk.getData('/a', { watch: data.watcher });
    await zk.getChildren('/p', { watch: child.watcher });
    await zk.exists('/later', { watch: exist.watcher });
    await zk.addWatch('/q', persistent.watcher, { mode: 'PERSISTENT' });
    await zk.addWatch('/r', recursive.watcher, { mode: 'PERSISTENT_RECURSIVE' });
    const zxid = zk.lastZxidSeen;
    const back = nextState(zk, 'connected');
    server.dropConnections();
    await back;
    const set = await server.waitFor((r) => r.frame.kind === 'request' && r.frame.request.op === 'setWatches');
    expect(set.frame.kind === 'request' && set.frame.request).toEqual({
      op: 'setWatches',
      relativeZxid: zxid,
      dataWatches: ['/a'],
      existWatches: ['/later'],
      childWatches: ['/p'],
      persistentWatches: ['/q'],
      persistentRecursiveWatches: ['/r'],
    });
    // setWatches goes before anything else on the new connection.
    const onNew = server.received.filter((r) => r.conn === set.conn && r.frame.kind === 'request');
    expect(onNew[0]).toBe(set);
    // Changed by another session: the re-registered watches fire.
    const other = await client(server.url);
    await other.setData('/a', 'z');
    await other.create('/p/c');
    await other.create('/later');
    await other.create('/q');
    await other.create('/r');
    await other.create('/r/deep');
    expect(await data.next()).toMatchObject({ type: 'NodeDataChanged', path: '/a' });
    expect(await child.next()).toMatchObject({ type: 'NodeChildrenChanged', path: '/p' });
    expect(await exist.next()).toMatchObject({ type: 'NodeCreated', path: '/later' });
    expect(await persistent.next()).toMatchObject({ type: 'NodeCreated', path: '/q' });
    expect(await recursive.nth(2)).toMatchObject({ type: 'NodeCreated', path: '/r/deep' });
  });

  test('a change missed while disconnected fires the watch on reconnect', async () => {
    const { server, zk } = await setup();
    await zk.create('/a', 'x');
    const data = recorder();
    await zk.getData('/a', { watch: data.watcher });
    const disconnected = nextState(zk, 'disconnected');
    server.dropConnections();
    await disconnected;
    // Another session changes /a while this one is away (the reconnect waits for a backoff timer, so this is first).
    server.state.tree.zxid++;
    server.state.tree.write({ op: 'setData', path: '/a', data: new Uint8Array([1]), version: -1 }, 0);
    expect(await data.next()).toMatchObject({ type: 'NodeDataChanged', path: '/a' });
  });

  test('requests in flight when the socket drops fail with ConnectionLoss', async () => {
    const { server, zk } = await setup();
    server.hold();
    const write = zk.create('/maybe', 'x');
    const read = zk.getData('/maybe');
    await server.waitForCount(2, (r) => r.frame.kind === 'request' && r.frame.request.op !== 'ping');
    server.dropConnections();
    const [w, r] = (await Promise.all([write.catch((e: unknown) => e), read.catch((e: unknown) => e)])) as ZookError[];
    expect([w.code, w.path, r.code, r.path]).toEqual(['ConnectionLoss', '/maybe', 'ConnectionLoss', '/maybe']);
    expect(w.message).toContain('may or may not have been applied');
  });

  test('calls made while disconnected wait and go out after the reconnect', async () => {
    const state = new FakeState();
    const [server] = await startServers(1, state);
    const zk = await client(server.url);
    const port = server.port;
    const disconnected = nextState(zk, 'disconnected');
    await server.stop();
    await disconnected;
    const pending = zk.create('/queued', 'x');
    const revived = await FakeServer.start(state, port);
    try {
      expect(await pending).toBe('/queued');
      expect(revived.requests('create')).toHaveLength(1);
    } finally {
      await zk.close();
      await revived.stop();
    }
  });

  test('a call waiting for a connection fails with OperationTimeout after its timeout', async () => {
    const { server, zk } = await setup();
    const disconnected = nextState(zk, 'disconnected');
    await server.stop();
    await disconnected;
    const error = (await zk.sync('/', { timeoutMs: 30 }).catch((e: unknown) => e)) as ZookError;
    expect(error.code).toBe('OperationTimeout');
    expect(error.message).toContain('waiting for a connection');
  });

  test('a frame that does not decode drops the connection (ConnectionLoss) and the client reconnects', async () => {
    const { server, zk } = await setup();
    server.onRequest = (frame, conn) => {
      if (frame.request.op === 'sync') conn.sendRaw(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
      return frame.request.op === 'sync';
    };
    const back = nextState(zk, 'connected');
    await expect(zk.sync('/')).rejects.toMatchObject({ code: 'ConnectionLoss' });
    await back;
    server.onRequest = undefined;
    await zk.sync('/');
  });
});
