import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import type { CreateOp } from '../../src/protocol/index.js';
import { RawClient, create, text } from './support/raw-client.js';
import { newDataDir, startServerProcess } from './support/server-process.js';
import { until } from '../support/until.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('periodic snapshots compact the WAL, and a kill -9 restart recovers snapshot + log with every acknowledged write', async () => {
  const configDir = mkdtempSync(join(tmpdir(), 'zook-snap-'));
  const config = join(configDir, 'zook.json');
  writeFileSync(config, JSON.stringify({ snapshotEveryEntries: 100 }));
  const dataDir = newDataDir();
  const first = await startServerProcess({ dataDir, extraArgs: ['--config', config] });
  const { client } = await RawClient.session(first.url);
  // In rounds, so each round's writes land after the previous snapshot finished.
  for (let round = 0; round < 3; round++) {
    const replies = await Promise.all(Array.from({ length: 150 }, (_, k) => client.call(create(`/s${round * 150 + k}`, `v${round * 150 + k}`))));
    expect(replies.every((r) => r.error === 0)).toBe(true);
    await client.call({ op: 'sync', path: '/' });
  }
  const metrics = await (await fetch(`http://127.0.0.1:${first.port}/metrics`)).text();
  expect(Number(/^zook_snapshots_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  await first.kill9();

  expect(readdirSync(join(dataDir, 'snapshots')).filter((f) => !f.endsWith('.tmp')).length).toBeGreaterThan(0);
  const verify = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'wal', 'verify', dataDir], { cwd: ROOT, encoding: 'utf8' });
  expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  expect(verify.stdout).toMatch(/^ok:/m);

  const second = await startServerProcess({ dataDir, extraArgs: ['--config', config] });
  const { client: reader } = await RawClient.session(second.url);
  for (const i of [0, 99, 100, 333, 449]) {
    const got = await reader.call({ op: 'getData', path: `/s${i}`, watch: false });
    expect(got.response?.kind === 'data' && text(got.response.data)).toBe(`v${i}`);
  }
  // The 450 nodes plus the system nodes /zookeeper, /zookeeper/config, /zookeeper/quota, restored from the snapshot too.
  expect((await reader.call({ op: 'getAllChildrenNumber', path: '/' })).response).toEqual({ kind: 'count', count: 450 + 3 });
  reader.close();
  await second.stop();
  second.cleanup();
});

test('a snapshot of a large tree is built in slices while writes go on being applied; the snapshot is the state at its index (a kill -9 restart rebuilds every node and value)', async () => {
  const configDir = mkdtempSync(join(tmpdir(), 'zook-snap-'));
  const config = join(configDir, 'zook.json');
  writeFileSync(config, JSON.stringify({ snapshotEveryEntries: 30_000 }));
  const dataDir = newDataDir();
  const first = await startServerProcess({ dataDir, extraArgs: ['--config', config] });
  const { client } = await RawClient.session(first.url);
  const count = 60_000;
  const batch = 1000;
  // Creates in multis (few log entries, a big tree), then single setData writes that
  // cross the 30,000-entry mark while the snapshot of the big tree is being built.
  for (let from = 0; from < count; from += batch) {
    const ops = Array.from({ length: batch }, (_, k) => create(`/big${from + k}`, '0') as CreateOp);
    const reply = await client.call({ op: 'multi', ops });
    expect(reply.error).toBe(0);
  }
  const writes = 31_000;
  const window = 200;
  for (let at = 0; at < writes; at += window) {
    const replies = await Promise.all(Array.from({ length: window }, (_, k) => client.call({ op: 'setData', path: `/big${(at + k) % count}`, data: new TextEncoder().encode(String(at + k)), version: -1 })));
    expect(replies.every((r) => r.error === 0)).toBe(true);
  }
  await client.call({ op: 'sync', path: '/' });
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${first.port}/metrics`)).text();
  const counter = (text: string, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  // The snapshot is on disk (renamed into place) before the kill: the restart loads it.
  await until('the snapshot file', () => (readdirSync(join(dataDir, 'snapshots')).some((f) => !f.endsWith('.tmp')) ? true : undefined));
  const m = await metrics();
  expect(counter(m, 'zook_snapshot_build_slices_total')).toBeGreaterThan(1);
  await first.kill9();

  const second = await startServerProcess({ dataDir, extraArgs: ['--config', config] });
  const { client: reader } = await RawClient.session(second.url);
  for (const i of [0, 1, 29_999, 30_000, 30_999, 31_000, 59_999]) {
    const got = await reader.call({ op: 'getData', path: `/big${i}`, watch: false });
    const expected = i < writes ? String(i) : '0';
    expect(got.response?.kind === 'data' && text(got.response.data)).toBe(expected);
  }
  await second.stop();
  second.cleanup();
});
