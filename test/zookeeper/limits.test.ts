// The ZooKeeper door's limits, each with its own setting: the connect deadline, the
// largest packet, the four-letter-word whitelist, and a client ahead of the server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { OpCode } from '../../src/zookeeper/records.js';
import { type ServerProcess, startServerProcess } from '../server/support/server-process.js';
import { RawZkClient, body, fourLetterWord } from './support/raw-zk.js';

let server: ServerProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zook-zk-limits-'));
  const config = join(dir, 'limits.json');
  writeFileSync(config, JSON.stringify({ zkConnectTimeoutMs: 300, zkMaxFrameBytes: 4096, zkFourLetterWords: 'ruok,mntr' }));
  server = await startServerProcess({ extraArgs: ['--config', config] });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('a connection that sends no ConnectRequest within zkConnectTimeoutMs is closed', async () => {
  const client = await RawZkClient.open(server.zkPort);
  await client.closed;
  expect(server.output()).toContain('no ConnectRequest within 300 ms');
});

test('a packet over zkMaxFrameBytes closes that connection; the server serves the next one', async () => {
  const { client } = await RawZkClient.session(server.zkPort);
  void client.request(OpCode.create, body.create('/big', 'x'.repeat(5000)));
  await client.closed;
  expect(server.output()).toMatch(/packet length \d+ outside 0\.\.4096 \(jute\.maxbuffer\)/);
  const { client: next } = await RawZkClient.session(server.zkPort);
  expect((await next.request(OpCode.create, body.create('/small', 'x'.repeat(100)))).err).toBe(0);
  await next.close();
});

test('four-letter words outside the whitelist get ZooKeeper\'s refusal; those in it answer', async () => {
  expect(await fourLetterWord(server.zkPort, 'ruok')).toBe('imok');
  expect(await fourLetterWord(server.zkPort, 'srvr')).toBe('srvr is not executed because it is not in the whitelist.\n');
  expect(await fourLetterWord(server.zkPort, 'mntr')).toMatch(/^zk_version\t/m);
});

test('a client that has seen a newer zxid than the server is refused (no session), so it tries another server', async () => {
  const client = await RawZkClient.open(server.zkPort);
  let answered = false;
  void client.handshake({ lastZxidSeen: 1_000_000 }).then(() => (answered = true));
  await client.closed;
  expect(answered).toBe(false);
});
