// `zook cluster` against the built CLI: a 3-server local ensemble whose printed
// connect string works, survives kill -9 of one server, and stops on SIGINT.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, isZookError, type ZookClient } from '../../src/client/index.js';
import { until } from '../support/until.js';
import { alive } from './support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');



/** Retries an idempotent call while the client fails over (ConnectionLoss, timeouts), up to a deadline. */
async function retried<T>(call: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const transient = isZookError(error) && (error.code === 'ConnectionLoss' || error.code === 'OperationTimeout');
      if (!transient || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const text = (data: Uint8Array): string => Buffer.from(data).toString('utf8');

describe('zook cluster --nodes 3', () => {
  let dir: string;
  let cluster: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let connectString: string;
  let zkConnectString: string;
  let pids: Record<string, number>;
  const clients: ZookClient[] = [];

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'zook-cluster-test-'));
    cluster = spawn(process.execPath, [MAIN, 'cluster', '--nodes', '3', '--base-port', '0', '--data-dir', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    cluster.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cluster.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => cluster.on('exit', (code) => resolve(code)));
    await until('a leader', () => (/leader is server \d+/.test(output) ? true : cluster.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 30_000);
    connectString = /^zook connect string: +(\S+)$/m.exec(output)![1];
    zkConnectString = /^ZooKeeper connect string: (\S+)$/m.exec(output)![1];
    pids = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as Record<string, number>;
  }, 40_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    if (cluster.exitCode === null && cluster.signalCode === null) cluster.kill('SIGKILL');
    for (const pid of Object.values(pids ?? {})) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('prints a connect string of three servers and writes their pids', () => {
    expect(connectString.split(',')).toHaveLength(3);
    expect(zkConnectString.split(',')).toHaveLength(3);
    expect(output).toContain(`npx zook shell --server ${connectString}`);
    expect(Object.keys(pids).sort()).toEqual(['1', '2', '3']);
    for (const pid of Object.values(pids)) expect(output).toContain(`pid ${pid}`);
    // Each server's readable log line, with its prefix: "[1] <time> INFO  [1 server] zook: server 1 listening on ..."
    expect(output).toMatch(/^\[1\] \S+ INFO +\[1 server\] zook: server 1 listening on/m);
  });

  test('a znode created through one server is read through another', async () => {
    const [first, second] = connectString.split(',');
    const a = await connect(first);
    const b = await connect(second);
    clients.push(a, b);
    await a.create('/hello', 'through one');
    await b.sync('/hello');
    expect(text((await b.getData('/hello')).data)).toBe('through one');
  });

  // Kills the leader, with the client connected to it: an election and a failover at once.
  test('after kill -9 of the leader, a client on the whole connect string keeps writing and reading', async () => {
    const leader = Number(/leader is server (\d+)/.exec(output)![1]);
    const addresses = connectString.split(',');
    const victim = leader;
    const ordered = [...addresses.slice(victim - 1), ...addresses.slice(0, victim - 1)].join(',');
    const zk = await connect(ordered, { sessionTimeoutMs: 15_000, shuffleServers: false });
    clients.push(zk);
    await zk.create('/survivor', 'before');
    process.kill(pids[String(victim)], 'SIGKILL');
    await until('the cluster to notice', () => (output.includes(`server ${victim} (pid ${pids[String(victim)]}) exited (SIGKILL)`) ? true : undefined));
    await retried(() => zk.setData('/survivor', 'after 1'));
    expect(text((await retried(() => zk.getData('/survivor'))).data)).toBe('after 1');
    await retried(() => zk.setData('/survivor', 'after 2'));
    expect(text((await retried(() => zk.getData('/survivor'))).data)).toBe('after 2');
    expect(JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8'))).not.toHaveProperty(String(victim));
  }, 40_000);

  test('SIGINT stops every server (their pids are gone) and exits 0', async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    cluster.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const pid of Object.values(pids)) expect(alive(pid)).toBe(false);
    expect(output).toContain('all servers stopped');
  }, 20_000);
});
