import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ErrorCode } from '../../src/tree/errors.js';
import { RawClient } from './support/raw-client.js';
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

test('a client that keeps sending far past the limit is disconnected with Throttled', async () => {
  const server = await serverWithInFlightLimit(4);
  const { client } = await RawClient.session(server.url);
  for (let i = 0; i < 50; i++) client.send({ op: 'sync', path: '/' });
  await client.waitClosed();
  const notice = client.frames.find((f) => f.kind === 'close');
  expect(notice).toMatchObject({ kind: 'close', error: ErrorCode.Throttled });
  await server.stop();
  server.cleanup();
});

test('the server refuses to start on the slow JS fallback of uWebSockets.js, saying why', async () => {
  await expect(startServerProcess({ env: { UWS_USE_FALLBACK: '1' } })).rejects.toThrow(/refuses to run that way/);
});
