// `zook snapshot save|restore|status` against real server processes: a standalone
// server's data saved, wiped and restored into a fresh dir gives the same digest and
// the same znodes; a 3-server ensemble saved from a follower while writes run, then
// restored into a new ensemble (other ids, ports and dirs) elects a leader and serves
// the data. The CLI runs through tsx from src/, as the servers do.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../src/client/index.js';
import type { NodeStatus } from '../../src/server/node-status.js';
import { digestId } from '../../src/tree/acl.js';
import { distinctFreePorts } from '../server/support/free-port.js';
import { startServerProcess, type ServerProcess } from '../server/support/server-process.js';
import { until } from '../support/until.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const SUPER_PASSWORD = 'snapshot-test-password';
const SUPER_DIGEST = digestId('super', SUPER_PASSWORD);
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function zook(args: readonly string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function statusOf(port: number): Promise<NodeStatus | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(1000) });
    return (await response.json()) as NodeStatus;
  } catch {
    return undefined;
  }
}

/** `zook snapshot status FILE` as key -> value. */
async function fileStatus(file: string): Promise<Record<string, string>> {
  const run = await zook(['snapshot', 'status', file]);
  expect(run.code, run.stderr).toBe(0);
  return Object.fromEntries(run.stdout.trim().split('\n').map((line) => [line.slice(0, 9).trim(), line.slice(9).trim()]));
}

/** Every znode under /app: path -> data, with the ACL of each. */
async function dump(client: ZookClient, path = '/app', out = new Map<string, string>()): Promise<Map<string, string>> {
  const { data } = await client.getData(path);
  const { acl } = await client.getACL(path);
  out.set(path, `${text(data)} ${JSON.stringify(acl)}`);
  for (const child of (await client.getChildren(path)).sort()) await dump(client, `${path}/${child}`, out);
  return out;
}

describe('zook snapshot on a standalone server', () => {
  let dir: string;
  let server: ServerProcess | null = null;
  let file: string;
  let saved: Record<string, string>;
  let before: Map<string, string>;
  let statusBefore: NodeStatus;
  const jobs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-snapshot-test-'));
    file = join(dir, 'backup.snap');
    server = await startServerProcess({ env: { ZOOK_SUPER_DIGEST: SUPER_DIGEST } });
    const client = await connect(`127.0.0.1:${server.port}`);
    await client.addAuth('digest', 'alice:secret');
    await client.create('/app', 'root of the app');
    await client.create('/app/config', 'port=80');
    await client.create('/app/private', 'only alice', { acl: [{ perms: 31, scheme: 'digest', id: digestId('alice', 'secret') }] });
    await client.create('/app/empty', null);
    for (let i = 0; i < 3; i++) jobs.push(await client.create('/app/job-', `job ${i}`, { mode: 'PERSISTENT_SEQUENTIAL' }));
    await client.setData('/app/config', 'port=81');
    before = await dump(client);
    await client.close();
    statusBefore = (await statusOf(server.port))!;
    const run = await zook(['snapshot', 'save', file, '--server', server.url, '--auth', `super:${SUPER_PASSWORD}`]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^saved .*: index \d+, term \d+, \d+ znodes, \d+ bytes, digest [0-9a-f]+/);
    saved = await fileStatus(file);
    await server.stop();
    server.cleanup();
    server = null;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('status prints the index, znode count and digest the server had when saved', () => {
    expect(Number(saved.index)).toBe(statusBefore.appliedIndex);
    expect(Number(saved.znodes)).toBe(statusBefore.znodes);
    expect(saved.digest).toBe(statusBefore.digest);
    expect(Number(saved.term)).toBe(statusBefore.term);
    expect(saved.size).toMatch(/^\d+ bytes$/);
  });

  test('save without credentials, or with a wrong password, is refused', async () => {
    const again = await startServerProcess({ env: { ZOOK_SUPER_DIGEST: SUPER_DIGEST } });
    try {
      const none = await zook(['snapshot', 'save', join(dir, 'none.snap'), '--server', again.url]);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/--auth/);
      const wrong = await zook(['snapshot', 'save', join(dir, 'wrong.snap'), '--server', again.url, '--auth', 'super:not-the-password']);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/HTTP 403/);
      expect(readdirSync(dir).filter((name) => name !== 'backup.snap')).toEqual([]);
    } finally {
      await again.stop();
      again.cleanup();
    }
  }, 60_000);

  test('save, wipe, restore into a fresh dir, start: same digest and same znodes, data and ACLs', async () => {
    const fresh = join(dir, 'restored');
    const run = await zook(['snapshot', 'restore', file, '--data-dir', fresh]);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(fresh, 'snapshots'))).toHaveLength(1);
    server = await startServerProcess({ dataDir: fresh, env: { ZOOK_SUPER_DIGEST: SUPER_DIGEST } });
    const after = (await statusOf(server.port))!;
    expect(after.digest).toBe(statusBefore.digest);
    expect(after.znodes).toBe(statusBefore.znodes);
    // The restored server leads in a new term: its first (empty) entry follows the snapshot.
    expect(after.appliedIndex).toBeGreaterThan(statusBefore.appliedIndex);
    const client = await connect(`127.0.0.1:${server.port}`);
    try {
      await client.addAuth('digest', 'alice:secret');
      expect(await dump(client)).toEqual(before);
      // The sequential counter survived too: the next name follows the three before.
      const next = Number(jobs[2].slice('/app/job-'.length)) + 1;
      expect(await client.create('/app/job-', 'job 3', { mode: 'PERSISTENT_SEQUENTIAL' })).toBe(`/app/job-${String(next).padStart(10, '0')}`);
    } finally {
      await client.close();
    }
  }, 60_000);

  test('restore refuses a data dir that is not empty, and leaves it alone', async () => {
    const used = join(dir, 'used');
    mkdirSync(used);
    writeFileSync(join(used, 'something'), 'here before');
    const run = await zook(['snapshot', 'restore', file, '--data-dir', used]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/is not empty/);
    expect(readdirSync(used)).toEqual(['something']);
  });

  test('restore and status refuse a file with one byte flipped, and write nothing', async () => {
    const bytes = readFileSync(file);
    const damaged = join(dir, 'damaged.snap');
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    writeFileSync(damaged, bytes);
    const target = join(dir, 'from-damaged');
    const run = await zook(['snapshot', 'restore', damaged, '--data-dir', target]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/not a sound zook snapshot: byte offset \d+: .*checksum mismatch/);
    expect(readdirSync(dir)).not.toContain('from-damaged');
    const status = await zook(['snapshot', 'status', damaged]);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/checksum mismatch/);
  });
});

interface EnsembleProcs {
  readonly file: string;
  readonly ports: { client: number; peer: number; zk: number }[];
  readonly ids: number[];
  readonly servers: { child: ChildProcess; exited: Promise<unknown> }[];
}

async function writeEnsemble(dir: string, clusterId: string, ids: number[], settings: Readonly<Record<string, unknown>> = {}): Promise<EnsembleProcs> {
  const port = distinctFreePorts();
  const ports: { client: number; peer: number; zk: number }[] = [];
  for (let i = 0; i < ids.length; i++) ports.push({ client: await port(), peer: await port(), zk: await port() });
  const file = join(dir, `${clusterId}.json`);
  const ensemble = {
    clusterId,
    secret: `a secret for ${clusterId} of enough characters`,
    tickMs: 500,
    raftTickMs: 50,
    electionTicks: 10,
    heartbeatTicks: 1,
    ...settings,
    servers: ids.map((id, i) => ({ id, host: '127.0.0.1', clientPort: ports[i].client, zkPort: ports[i].zk, peerPort: ports[i].peer, dataDir: join(dir, `${clusterId}-${id}`) })),
  };
  writeFileSync(file, JSON.stringify(ensemble));
  return { file, ports, ids, servers: [] };
}

function startEnsemble(e: EnsembleProcs): void {
  for (const id of e.ids) {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'server', '--id', String(id), '--config', e.file], { cwd: ROOT, stdio: 'ignore' });
    e.servers.push({ child, exited: new Promise((resolve) => child.on('exit', resolve)) });
  }
}

async function stopEnsemble(e: EnsembleProcs): Promise<void> {
  for (const s of e.servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  await Promise.all(e.servers.map((s) => s.exited));
  e.servers.length = 0;
}

/** The leader once every server of `e` names the same one. */
function leaderOf(e: EnsembleProcs): Promise<NodeStatus> {
  return until(
    `one leader known by servers ${e.ids.join(',')}`,
    async () => {
      const all = await Promise.all(e.ports.map((p) => statusOf(p.client)));
      const lead = all.find((s) => s?.role === 'leader');
      return lead !== undefined && all.every((s) => s?.leader === lead.serverId) ? lead : undefined;
    },
    60_000,
  );
}

describe('zook snapshot on a 3-server ensemble', () => {
  let dir: string;
  let source: EnsembleProcs;
  let target: EnsembleProcs | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-snapshot-ensemble-'));
    // Frequent snapshots of its own, so the export meets them (the tree writes one at a time); two kept.
    source = await writeEnsemble(dir, 'before', [1, 2, 3], { snapshotEveryEntries: 25, snapshotsKept: 2 });
    startEnsemble(source);
    await leaderOf(source);
  }, 90_000);

  afterAll(async () => {
    await stopEnsemble(source);
    if (target !== null) await stopEnsemble(target);
    rmSync(dir, { recursive: true, force: true });
  });

  test('snapshotsKept: 2 keeps the two newest snapshots in each data dir', async () => {
    const client = await connect(source.ports.map((p) => `127.0.0.1:${p.client}`).join(','));
    try {
      await client.create('/warmup', null);
      for (let i = 0; i < 100; i++) await client.create(`/warmup/n-${i}`, 'x');
    } finally {
      await client.close();
    }
    const dataDir = join(dir, 'before-1');
    await until('server 1 to have taken 3 snapshots', async () => ((await statusOf(source.ports[0].client))?.snapshotsTaken ?? 0) >= 3 ? true : undefined);
    await until('older snapshots pruned', () => (readdirSync(join(dataDir, 'snapshots')).filter((n) => n.endsWith('.snap')).length === 2 ? true : undefined));
  }, 60_000);

  test('saved from a follower while writes run, restored into a new ensemble (ids 4-6): it elects a leader and serves the data', async () => {
    const lead = await leaderOf(source);
    const followerPort = source.ports[source.ids.indexOf(lead.serverId === 1 ? 2 : 1)].client;
    const connectString = source.ports.map((p) => `127.0.0.1:${p.client}`).join(',');
    const client = await connect(connectString);
    await client.create('/app', 'ensemble data');
    for (let i = 0; i < 20; i++) await client.create(`/app/before-${i}`, `value ${i}`);
    // Writes go on while the snapshot is taken; each acknowledged one is remembered.
    let writing = true;
    const during: string[] = [];
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await client.create(`/app/during-${i}`, `during ${i}`);
        during.push(`/app/during-${i}`);
      }
    })();
    await until('some writes before the save', () => (during.length >= 5 ? true : undefined));
    const file = join(dir, 'ensemble.snap');
    const acknowledgedBeforeSave = during.length;
    const save = await zook(['snapshot', 'save', file, '--server', `ws://127.0.0.1:${followerPort}`, '--config', source.file]);
    writing = false;
    await writer;
    await client.close();
    expect(save.code, save.stderr).toBe(0);
    const saved = await fileStatus(file);
    await stopEnsemble(source);

    target = await writeEnsemble(dir, 'after', [4, 5, 6]);
    const ensemble = JSON.parse(readFileSync(target.file, 'utf8')) as { servers: { id: number; dataDir: string }[] };
    for (const server of ensemble.servers) {
      const run = await zook(['snapshot', 'restore', file, '--data-dir', server.dataDir, '--config', target.file, '--id', String(server.id)]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/voters 4,5,6/);
    }
    startEnsemble(target);
    const newLeader = await leaderOf(target);
    expect(newLeader.voters).toEqual([4, 5, 6]);
    expect(newLeader.digest).toBe(saved.digest);
    expect(newLeader.znodes).toBe(Number(saved.znodes));
    const reader = await connect(target.ports.map((p) => `127.0.0.1:${p.client}`).join(','));
    try {
      const names = await reader.getChildren('/app');
      for (let i = 0; i < 20; i++) expect(text((await reader.getData(`/app/before-${i}`)).data)).toBe(`value ${i}`);
      // The read barrier: every write acknowledged before the save was asked for is in it.
      for (const path of during.slice(0, acknowledgedBeforeSave)) expect(names).toContain(path.slice('/app/'.length));
      await reader.create('/app/after-restore', 'new');
      expect(text((await reader.getData('/app/after-restore')).data)).toBe('new');
    } finally {
      await reader.close();
    }
  }, 180_000);
});
