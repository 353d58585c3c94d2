// `zook cluster` and the data dirs it runs on, against the built CLI: a second run
// on a dir in use refuses and starts nothing; so does a run whose servers of an
// earlier run still live; a server that cannot start stops the whole run.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect } from '../../src/client/index.js';
import { freePort } from '../../src/util/free-port.js';
import { until } from '../support/until.js';
import { serverPids } from './support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');

interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function runCluster(dir: string, ...args: string[]): Run {
  const child = spawn(process.execPath, [MAIN, 'cluster', '--nodes', '3', '--base-port', '0', '--data-dir', dir, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}


function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
});

describe('zook cluster on a data dir that is in use', () => {
  let dir: string;
  let ensemblePath: string;
  let first: Run;
  let firstPids: number[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-cluster-owner-'));
    ensemblePath = join(dir, 'ensemble.json');
    first = runCluster(dir);
    await until('a leader', () => (/leader is server \d+/.test(first.output()) ? true : first.child.exitCode !== null ? Promise.reject(new Error(first.output())) : undefined), 40_000);
    firstPids = Object.values(JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as Record<string, number>).sort((a, b) => a - b);
  }, 60_000);

  afterAll(() => {
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    killAll(serverPids(ensemblePath));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a second run on the same dir exits 1 naming the first run, starts no server, and the first keeps serving', async () => {
    const pidsBefore = readFileSync(join(dir, 'pids.json'), 'utf8');
    const second = runCluster(dir);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`is in use by zook cluster (pid ${first.child.pid}`);
    expect(second.output()).not.toContain('listening on');
    expect(serverPids(ensemblePath)).toEqual(firstPids);
    expect(readFileSync(join(dir, 'pids.json'), 'utf8')).toBe(pidsBefore);
    const connectString = /^zook connect string: +(\S+)$/m.exec(first.output())![1];
    const client = await connect(connectString);
    try {
      await client.create('/after-second-run', 'first run');
      expect(Buffer.from((await client.getData('/after-second-run')).data).toString('utf8')).toBe('first run');
    } finally {
      await client.close();
    }
  }, 60_000);

  test('with the first run killed -9 but its servers still running, a new run exits 1 naming them and starts no server', async () => {
    first.child.kill('SIGKILL');
    await first.exited;
    expect(serverPids(ensemblePath)).toEqual(firstPids);
    const again = runCluster(dir);
    expect(await again.exited).toBe(1);
    for (const pid of firstPids) expect(again.output()).toMatch(new RegExp(`server \\d's data dir \\S+ is in use by zook server \\d \\(pid ${pid},`));
    expect(again.output()).toContain('Servers of an earlier run still run');
    expect(serverPids(ensemblePath)).toEqual(firstPids);
  }, 60_000);
});

describe('zook cluster with a server that cannot start', () => {
  let dir: string;
  let blocker: Server;

  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    killAll(serverPids(join(dir, 'ensemble.json')));
    rmSync(dir, { recursive: true, force: true });
  });

  test('server 2 failing to listen stops servers 1 and 3 of the same run; the run exits 1 and leaves no server running', async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-cluster-half-'));
    const ensemblePath = join(dir, 'ensemble.json');
    const servers: { id: number; host: string; zkPort: number; clientPort: number; peerPort: number; dataDir: string }[] = [];
    for (const id of [1, 2, 3]) servers.push({ id, host: '127.0.0.1', zkPort: await freePort(), clientPort: await freePort(), peerPort: await freePort(), dataDir: join(dir, String(id)) });
    writeFileSync(ensemblePath, JSON.stringify({ clusterId: 'zook-cluster', secret: randomBytes(32).toString('hex'), servers }));
    // Something else already listens on server 2's WebSocket port.
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(servers[1].clientPort, '127.0.0.1', () => resolve()));
    const run = runCluster(dir);
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/server 2 \(pid \d+\) exited \(exit code 1\) before it was listening/);
    expect(run.output()).toContain(`cannot listen for WebSocket clients on 127.0.0.1:${servers[1].clientPort}`);
    expect(run.output()).toContain('all servers stopped');
    expect(serverPids(ensemblePath)).toEqual([]);
    expect(existsSync(join(dir, 'pids.json'))).toBe(false);
  }, 60_000);
});
