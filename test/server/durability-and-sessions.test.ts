import { describe, expect, test } from 'vitest';
import { ErrorCode } from '../../src/tree/errors.js';
import { RawClient, create, text } from './support/raw-client.js';
import { newDataDir, startServerProcess } from './support/server-process.js';

/** Sends pings until `until` resolves, so a session stays alive while a test waits on another. */
function keepAlive(client: RawClient, until: Promise<unknown>, everyMs = 50): void {
  let done = false;
  void until.finally(() => (done = true));
  const tick = (): void => {
    if (done || client.closeCode !== null) return;
    client.send({ op: 'ping' });
    setTimeout(tick, everyMs);
  };
  tick();
}

describe('durability', () => {
  test('every acknowledged write survives kill -9 and a restart', async () => {
    const dataDir = newDataDir();
    const first = await startServerProcess({ dataDir });
    const { client } = await RawClient.session(first.url);
    await client.call(create('/d'));
    const xids = Array.from({ length: 300 }, (_, i) => client.send(create(`/d/n${i}`, `value-${i}`)));
    const acked: number[] = [];
    // Kill as soon as about half are acknowledged: the rest may or may not have made it.
    await new Promise<void>((resolve) => {
      xids.forEach((xid, i) =>
        void client.reply(xid).then(
          (r) => {
            if (r.error === 0) acked.push(i);
            if (acked.length === 150) resolve();
          },
          () => {}, // unanswered when the server died: unknown outcome, not checked
        ),
      );
    });
    const ackedAtKill = [...acked];
    await first.kill9();
    client.close();

    const second = await startServerProcess({ dataDir });
    const { client: reader } = await RawClient.session(second.url);
    for (const i of ackedAtKill) {
      const reply = await reader.call({ op: 'getData', path: `/d/n${i}`, watch: false });
      expect(reply.error, `acknowledged /d/n${i} is missing after kill -9`).toBe(0);
      expect(reply.response?.kind === 'data' && text(reply.response.data)).toBe(`value-${i}`);
    }
    reader.close();
    await second.stop();
    second.cleanup();
  });

  test('SIGTERM finishes in-flight writes, exits 0, and a restart has them all', async () => {
    const dataDir = newDataDir();
    const first = await startServerProcess({ dataDir });
    const { client } = await RawClient.session(first.url);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => client.call(create(`/g${i}`))));
    expect(replies.every((r) => r.error === 0)).toBe(true);
    expect(await first.stop()).toBe(0);
    const second = await startServerProcess({ dataDir });
    const { client: reader } = await RawClient.session(second.url);
    const count = await reader.call({ op: 'getAllChildrenNumber', path: '/' });
    // The 50 nodes plus the system nodes /zookeeper, /zookeeper/config, /zookeeper/quota.
    expect(count.response).toEqual({ kind: 'count', count: 50 + 3 });
    reader.close();
    await second.stop();
    second.cleanup();
  });
});

describe('sessions', () => {
  test('a session that stops pinging expires: its ephemerals go and watchers hear of it', async () => {
    const server = await startServerProcess({ tickMs: 100 });
    const owner = await RawClient.session(server.url, { timeoutMs: 300 });
    const watcher = (await RawClient.session(server.url, { timeoutMs: 2000 })).client;
    await owner.client.call(create('/expiring', '', 1));
    await watcher.call({ op: 'exists', path: '/expiring', watch: true });
    owner.client.close(); // no closeSession: the server must notice the silence
    const deleted = watcher.nextFrame((f) => f.kind === 'event' && f.path === '/expiring');
    keepAlive(watcher, deleted);
    expect(await deleted).toMatchObject({ type: 2 });
    // The expired session cannot be resumed.
    const late = await RawClient.open(server.url);
    await expect(late.connect({ sessionId: owner.connected.sessionId, password: owner.connected.password })).rejects.toThrow(/-112/);
    watcher.close();
    await server.stop();
    server.cleanup();
  });

  test('a client that reconnects with its session id and password keeps its session and ephemerals', async () => {
    const server = await startServerProcess();
    const { client, connected } = await RawClient.session(server.url, { timeoutMs: 10_000 });
    await client.call(create('/mine', '', 1));
    client.close();
    await client.waitClosed();
    const again = await RawClient.open(server.url);
    const resumed = await again.connect({ sessionId: connected.sessionId, password: connected.password, lastZxidSeen: 1 });
    expect(resumed.sessionId).toBe(connected.sessionId);
    const stat = await again.call({ op: 'exists', path: '/mine', watch: false });
    expect(stat.response?.kind === 'stat' && stat.response.stat.ephemeralOwner).toBe(connected.sessionId);
    again.close();
    await server.stop();
    server.cleanup();
  });

  test('a session survives a server restart within its timeout', async () => {
    const dataDir = newDataDir();
    const first = await startServerProcess({ dataDir });
    const { client, connected } = await RawClient.session(first.url, { timeoutMs: 20_000 });
    const made = await client.call(create('/survivor', '', 1));
    await first.kill9();
    const second = await startServerProcess({ dataDir });
    const again = await RawClient.open(second.url);
    await again.connect({ sessionId: connected.sessionId, password: connected.password, lastZxidSeen: made.zxid });
    expect((await again.call({ op: 'exists', path: '/survivor', watch: false })).error).toBe(0);
    again.close();
    await second.stop();
    second.cleanup();
  });

  test('a server refuses a client that has seen a newer zxid than it reaches within the session timeout', async () => {
    const server = await startServerProcess();
    const client = await RawClient.open(server.url);
    // It waits (a lagging server may catch up: see test/server/cluster), then refuses: nothing will write zxid 1,000,000.
    await expect(client.connect({ lastZxidSeen: 1_000_000, timeoutMs: 2000 })).rejects.toThrow(new RegExp(String(ErrorCode.ConnectionLoss)));
    await server.stop();
    server.cleanup();
  });
});
