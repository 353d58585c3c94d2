// Keeping the session alive: pings when idle, and giving up on a silent server.
import { describe, expect, test } from 'vitest';
import { nextState, setup } from './support/harness.js';

describe('keep-alive', () => {
  test('an idle client pings after about a third of the negotiated timeout', async () => {
    const { server, zk } = await setup({ sessionTimeoutMs: 10_000 });
    // The fake grants what it is asked unless capped; this client connected before the cap, so reconnect under it.
    server.grantTimeoutMs = () => 300;
    const reconnected = nextState(zk, 'connected');
    server.dropConnections();
    await reconnected;
    expect(zk.sessionTimeoutMs).toBe(300);
    const start = performance.now();
    const connIndex = server.connections.length;
    const ping = await server.waitFor((r) => r.conn === server.connections[connIndex - 1].id && r.frame.kind === 'request' && r.frame.request.op === 'ping');
    const elapsed = performance.now() - start;
    expect(ping.frame.kind).toBe('request');
    expect(elapsed).toBeGreaterThanOrEqual(80);
    // A third of the granted 300 ms, not of the 10 s asked for (generous bound for a loaded machine).
    expect(elapsed).toBeLessThan(1000);
  });

  test('pings keep coming while idle and are answered', async () => {
    const { server } = await setup({ sessionTimeoutMs: 150 });
    await server.waitForCount(3, (r) => r.frame.kind === 'request' && r.frame.request.op === 'ping');
  });

  test('a server that stops answering is dropped after two thirds of the timeout, and the client reconnects', async () => {
    const { server, zk } = await setup({ sessionTimeoutMs: 600 });
    const id = zk.sessionId;
    server.hold();
    const disconnected = nextState(zk, 'disconnected');
    const start = performance.now();
    await disconnected;
    // Read timeout 400 ms from the last frame received, which came at most about one ping interval (200 ms) before hold().
    expect(performance.now() - start).toBeGreaterThanOrEqual(100);
    server.release();
    await nextState(zk, 'connected');
    expect(zk.sessionId).toBe(id);
  });
});
