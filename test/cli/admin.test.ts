// `zook admin` against the built CLI and four `zook server --id i` processes from
// one ensemble file: servers 1-3 vote, server 4 starts empty ("joining") and waits
// to be added.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ADMIN_TOKEN_HEADER, adminToken } from '../../src/server/admin-http.js';
import type { NodeStatus } from '../../src/server/node-status.js';
import { freePort } from '../server/support/free-port.js';
import { until } from '../support/until.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const CLUSTER_ID = 'admin-test';
const SECRET = 'a test secret of enough characters';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function zook(args: readonly string[]): Promise<Run> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}


describe('zook admin', () => {
  let dir: string;
  let config: string;
  let ports: { client: number; peer: number; zk: number }[];
  const servers: { child: ChildProcess; exited: Promise<unknown> }[] = [];

  async function status(id: number): Promise<NodeStatus | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${ports[id - 1].client}/status`, { signal: AbortSignal.timeout(1000) });
      return (await response.json()) as NodeStatus;
    } catch {
      return undefined;
    }
  }

  /** The leader once servers 1-3 all name the same one. */
  async function leader(): Promise<NodeStatus> {
    return until('one leader known by servers 1-3', async () => {
      const all = await Promise.all([1, 2, 3].map(status));
      const lead = all.find((s) => s?.role === 'leader');
      return lead !== undefined && all.every((s) => s?.leader === lead.serverId) ? lead : undefined;
    });
  }

  /** Waits until the leader's /status shows this membership (it takes effect just after the change is applied). */
  async function membership(expected: { voters: number[]; learners: number[] }): Promise<void> {
    await until(`membership ${JSON.stringify(expected)}`, async () => {
      const lead = await leader();
      return JSON.stringify({ voters: lead.voters, learners: lead.learners }) === JSON.stringify(expected) ? true : undefined;
    });
  }

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'zook-admin-test-'));
    ports = [];
    for (let i = 0; i < 4; i++) ports.push({ client: await freePort(), peer: await freePort(), zk: await freePort() });
    config = join(dir, 'ensemble.json');
    const file = {
      clusterId: CLUSTER_ID,
      secret: SECRET,
      servers: ports.map((p, i) => ({
        id: i + 1,
        host: '127.0.0.1',
        clientPort: p.client,
        zkPort: p.zk,
        peerPort: p.peer,
        dataDir: join(dir, String(i + 1)),
        ...(i === 3 ? { joining: true } : {}),
      })),
    };
    writeFileSync(config, JSON.stringify(file));
    for (let id = 1; id <= 4; id++) {
      const child = spawn(process.execPath, [MAIN, 'server', '--id', String(id), '--config', config], { stdio: 'ignore' });
      servers.push({ child, exited: new Promise((resolve) => child.on('exit', resolve)) });
    }
    await leader();
    await until('server 4 answering', () => status(4));
  }, 40_000);

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  test('status prints a row for every server with exactly one leader, and exits 0', async () => {
    const run = await zook(['admin', 'status', '--config', config]);
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^id\s+role\s+term\s+leader\s+commitIndex\s+appliedIndex\s+lag\s+reachable$/);
    expect(rows.slice(1).map((r) => Number(r.split(/\s+/)[0]))).toEqual([1, 2, 3, 4]);
    expect(rows.slice(1).filter((r) => r.split(/\s+/)[1] === 'leader')).toHaveLength(1);
  });

  test('transfer-leader moves leadership to another voter', async () => {
    const before = (await leader()).serverId;
    const run = await zook(['admin', 'transfer-leader', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    await until('a new leader', async () => {
      const lead = await leader();
      return lead.serverId === before ? undefined : lead.serverId;
    });
    expect(JSON.parse(run.stdout)).toHaveProperty('leader');
    const json = JSON.parse((await zook(['admin', 'status', '--json', '--config', config])).stdout) as { id: number; status?: NodeStatus }[];
    const leaders = json.filter((r) => r.status?.role === 'leader').map((r) => r.id);
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).not.toBe(before);
  });

  test('add-learner 4 makes the joining server a learner', async () => {
    const run = await zook(['admin', 'add-learner', '4', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('index');
    await membership({ voters: [1, 2, 3], learners: [4] });
    await until('server 4 to learn it is a learner', async () => ((await status(4))?.role === 'learner' ? true : undefined));
  });

  test('remove 4 takes the learner out of the membership', async () => {
    const run = await zook(['admin', 'remove', '4', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveProperty('index');
    await membership({ voters: [1, 2, 3], learners: [] });
  });

  test('a change with a wrong admin token gets 403', async () => {
    const lead = await leader();
    const response = await fetch(`http://127.0.0.1:${ports[lead.serverId - 1].client}/admin/transfer-leader`, {
      method: 'POST',
      headers: { [ADMIN_TOKEN_HEADER]: adminToken('not the ensemble secret at all', CLUSTER_ID) },
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toMatch(ADMIN_TOKEN_HEADER);
  });

  test('a follower answers a change with 421 naming the leader', async () => {
    const lead = await leader();
    const follower = [1, 2, 3].find((id) => id !== lead.serverId)!;
    const response = await fetch(`http://127.0.0.1:${ports[follower - 1].client}/admin/transfer-leader`, {
      method: 'POST',
      headers: { [ADMIN_TOKEN_HEADER]: adminToken(SECRET, CLUSTER_ID) },
    });
    expect(response.status).toBe(421);
    expect(await response.json()).toMatchObject({ leader: lead.serverId });
  });
});
