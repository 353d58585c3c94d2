import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ErrorCode } from '../../src/tree/errors.js';
import type { Socket } from 'node:net';
import { until } from '../support/until.js';
import { RawClient, create } from './support/raw-client.js';
import { startServerProcess } from './support/server-process.js';

async function serverWithInFlightLimit(limit: number) {
  const dir = mkdtempSync(join(tmpdir(), 'zook-limits-'));
  const config = join(dir, 'zook.json');
  writeFileSync(config, JSON.stringify({ maxInFlightPerConnection: limit }));
  return startServerProcess({ extraArgs: ['--config', config] });
}

test('requests past the per-connection in-flight limit are answered Throttled, in order, and the connection stays', async () => {
  const server = await serverWithInFlightLimit(4);
  const { client } = await RawClient.session(server.url);
  // Writes wait for an fsync, so eight sent at once are in flight together.
  const xids = Array.from({ length: 8 }, () => client.send({ op: 'sync', path: '/' }));
  const replies = await Promise.all(xids.map((x) => client.reply(x)));
  const errors = replies.map((r) => r.error);
  expect(errors.filter((e) => e === ErrorCode.Throttled).length).toBeGreaterThan(0);
  expect(errors.every((e) => e === 0 || e === ErrorCode.Throttled)).toBe(true);
  const order = client.frames.flatMap((f) => (f.kind === 'reply' ? [f.xid] : []));
  expect(order).toEqual([...order].sort((a, b) => a - b));
  expect((await client.call({ op: 'exists', path: '/', watch: false })).error).toBe(0);
  client.close();
  await server.stop();
  server.cleanup();
});

test('a client that pipelines far past the limit, reading its answers, gets Throttled for the excess and keeps its connection', async () => {
  const server = await serverWithInFlightLimit(4);
  const { client } = await RawClient.session(server.url);
  // 50 times the limit in one go: the first writes wait for an fsync, so most arrive while 4 are in flight.
  const xids = Array.from({ length: 200 }, () => client.send({ op: 'sync', path: '/' }));
  const replies = await Promise.all(xids.map((x) => client.reply(x)));
  const errors = replies.map((r) => r.error);
  expect(errors.filter((e) => e === ErrorCode.Throttled).length).toBeGreaterThan(100);
  expect(errors.every((e) => e === 0 || e === ErrorCode.Throttled)).toBe(true);
  const order = client.frames.flatMap((f) => (f.kind === 'reply' ? [f.xid] : []));
  expect(order).toEqual(xids);
  expect(client.closeCode).toBeNull();
  expect((await client.call({ op: 'exists', path: '/', watch: false })).error).toBe(0);
  client.close();
  await server.stop();
  server.cleanup();
});

test('a client that keeps sending while it does not read is disconnected once maxBackpressureBytes wait for it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zook-limits-'));
  const config = join(dir, 'zook.json');
  writeFileSync(config, JSON.stringify({ maxBufferedBytesPerConnection: 256 * 1024, maxBackpressureBytes: 1024 * 1024 }));
  const server = await startServerProcess({ extraArgs: ['--config', config] });
  const { client } = await RawClient.session(server.url);
  expect((await client.call(create('/big', 'x'.repeat(500_000)))).error).toBe(0);
  const watcher = await RawClient.session(server.url);
  const socket = (client.ws as unknown as { _socket: Socket })._socket;
  socket.pause(); // reads nothing from here on
  // Past maxBufferedBytesPerConnection the answers are Throttled (small), but they still pile
  // up for a client that reads none: past maxBackpressureBytes (and what the kernel buffers)
  // the server drops it. Sent in rounds until it does (at most 2,000,000 requests).
  for (let round = 0; round < 200 && (await connections(server.port)) > 1; round++) {
    for (let i = 0; i < 10_000; i++) client.send({ op: 'getData', path: '/big', watch: false });
  }
  await until('the server to drop the client that does not read', async () => ((await connections(server.port)) === 1 ? true : undefined), 30_000);
  // The other client never noticed.
  expect((await watcher.client.call({ op: 'exists', path: '/big', watch: false })).error).toBe(0);
  socket.resume();
  await client.waitClosed();
  watcher.client.close();
  await server.stop();
  server.cleanup();
});

/** zook_connections from the server's /metrics. */
async function connections(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^zook_connections (\d+)$/m.exec(text)?.[1] ?? NaN);
}

test('the server refuses to start on the slow JS fallback of uWebSockets.js, saying why', async () => {
  await expect(startServerProcess({ env: { UWS_USE_FALLBACK: '1' } })).rejects.toThrow(/refuses to run that way/);
});
