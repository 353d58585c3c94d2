import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { RawClient, create, text } from './support/raw-client.js';
import { newDataDir, startServerProcess } from './support/server-process.js';

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
