// The end of a session: expiry (told by the server) ends the client for good;
// close() ends the session on the server, bounded in time.
import { describe, expect, test } from 'vitest';
import type { ClientState, TransportFactory, ZookError } from '../../src/client/index.js';
import { wsTransport } from '../../src/client/index.js';
import type { ConnectDecision } from './support/fake-server.js';
import { client, nextState, setup, startServers } from './support/harness.js';

/** A transport that counts connection attempts. */
async function countingTransport(): Promise<{ transport: TransportFactory; attempts: () => number }> {
  const inner = await wsTransport({ maxFrameBytes: 1 << 20 });
  let n = 0;
  return {
    transport: (url, handlers) => {
      n++;
      return inner(url, handlers);
    },
    attempts: () => n,
  };
}

/** Lets a reconnect that should not happen have its chance: longer than reconnectMaxDelayMs (40 ms in tests). */
const reconnectWindow = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 150));

describe('session expiry', () => {
  test('a SessionExpired close notice ends the client: calls in flight and later calls fail with SessionExpired', async () => {
    const { server, zk } = await setup();
    const states: ClientState[] = [];
    zk.on('state', (s) => states.push(s));
    server.hold();
    const inFlight = zk.getData('/a');
    await server.waitFor((r) => r.frame.kind === 'request' && r.frame.request.op === 'getData');
    server.state.expire(zk.sessionId);
    const error = (await inFlight.catch((e: unknown) => e)) as ZookError;
    expect([error.code, error.path]).toEqual(['SessionExpired', '/a']);
    expect(zk.state).toBe('expired');
    expect(states).toEqual(['expired']);
    await expect(zk.create('/b')).rejects.toMatchObject({ code: 'SessionExpired' });
  });

  test.each<[ConnectDecision, string]>([
    ['expire-notice', 'a CloseNotice with SessionExpired'],
    ['expire-zero-timeout', 'a ConnectResponse with timeout 0'],
    ['expire-close-reason', 'a WebSocket close whose reason is SessionExpired'],
  ])('a reconnect refused with %s (%s) expires the session and stops reconnecting', async (decision) => {
    const [server] = await startServers(1);
    const counting = await countingTransport();
    const zk = await client(server.url, { transport: counting.transport });
    server.onConnect = () => decision;
    const states: ClientState[] = [];
    zk.on('state', (s) => states.push(s));
    const expired = nextState(zk, 'expired');
    server.dropConnections();
    await expired;
    expect(states).toEqual(['disconnected', 'expired']);
    const attempts = counting.attempts();
    expect(attempts).toBe(2);
    await reconnectWindow();
    expect(counting.attempts()).toBe(attempts);
    expect(server.connects()).toHaveLength(2);
  });

  test('calls waiting for a connection fail with SessionExpired when the reconnect finds the session gone', async () => {
    const { server, zk } = await setup();
    server.onConnect = () => 'expire-notice';
    const disconnected = nextState(zk, 'disconnected');
    server.dropConnections();
    await disconnected;
    await expect(zk.create('/queued')).rejects.toMatchObject({ code: 'SessionExpired', path: '/queued' });
    expect(server.requests('create')).toEqual([]);
  });

  test('a CloseNotice with another error is a connection loss: the client reconnects', async () => {
    const { server, zk } = await setup();
    const id = zk.sessionId;
    const back = nextState(zk, 'connected');
    server.connections[0].send({ kind: 'close', error: -8, reason: 'shutting down' });
    await back;
    expect(zk.sessionId).toBe(id);
  });
});

describe('close()', () => {
  test('sends closeSession after the calls made before it, waits for the reply, then reports closed', async () => {
    const { server, zk } = await setup();
    await zk.create('/e', null, { mode: 'EPHEMERAL' });
    server.hold();
    const write = zk.create('/last', 'x');
    const closing = zk.close();
    expect(zk.state).toBe('closing');
    await server.waitFor((r) => r.frame.kind === 'request' && r.frame.request.op === 'closeSession');
    expect(zk.state).toBe('closing');
    const states: ClientState[] = [];
    zk.on('state', (s) => states.push(s));
    server.release();
    await closing;
    await write;
    expect(states).toEqual(['closed']);
    expect(server.requests().map((f) => f.request.op).slice(-2)).toEqual(['create', 'closeSession']);
    expect(server.state.tree.nodes.has('/e')).toBe(false);
    expect(server.state.sessions.size).toBe(0);
  });

  test('is bounded by closeTimeoutMs when the server does not answer', async () => {
    const { server, zk } = await setup({ closeTimeoutMs: 30 });
    server.hold();
    await zk.close();
    expect(zk.state).toBe('closed');
  });

  test('a connection lost while waiting for the closeSession reply ends the wait at once', async () => {
    const { server, zk } = await setup({ closeTimeoutMs: 60_000 });
    server.hold();
    const closing = zk.close();
    await server.waitFor((r) => r.frame.kind === 'request' && r.frame.request.op === 'closeSession');
    server.dropConnections();
    await closing;
    expect(zk.state).toBe('closed');
  });

  test('while disconnected it closes at once without sending closeSession', async () => {
    const { server, zk } = await setup();
    const disconnected = nextState(zk, 'disconnected');
    await server.stop();
    await disconnected;
    const waiting = zk.sync('/');
    await zk.close();
    expect(zk.state).toBe('closed');
    await expect(waiting).rejects.toMatchObject({ code: 'SessionExpired' });
    expect(server.requests('closeSession')).toEqual([]);
  });

  test('after close calls fail with SessionExpired, and close again is a no-op', async () => {
    const { zk } = await setup();
    const first = zk.close();
    expect(zk.close()).toBe(first);
    await first;
    await expect(zk.getData('/a')).rejects.toMatchObject({ code: 'SessionExpired' });
    await zk.close();
  });

  test('aborting connect() while the first handshake is pending rejects it with the signal reason', async () => {
    const [server] = await startServers(1);
    server.onConnect = () => 'ignore';
    const { connect } = await import('../../src/client/index.js');
    const controller = new AbortController();
    const pending = connect(server.url, { shuffleServers: false, signal: controller.signal });
    await server.waitFor((r) => r.frame.kind === 'connect');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
