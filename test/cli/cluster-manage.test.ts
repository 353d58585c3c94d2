// `zook cluster` keeps managing its servers, against the built CLI (issue 18):
// `zook cluster restart N` from another process and `restart N` typed on its
// stdin restart a server; a server killed and re-run by hand with the printed line
// is adopted (pids.json, Ctrl-C); leader changes are printed as they happen.
// One cluster serves the whole describe (each start costs seconds); its tests run
// in order and each proves one behaviour.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { until } from '../support/until.js';
import { alive, serverPids } from './support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');



function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs `zook <args>` to its end. */
function zook(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function status(port: number): Promise<{ role: string; term: number; hasLeader: boolean } | null> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? ((await response.json()) as { role: string; term: number; hasLeader: boolean }) : null;
  } catch {
    return null;
  }
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
});

describe('zook cluster restart|status without a cluster', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'zook-cluster-none-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('restart on a dir where no cluster runs exits 1 saying so', async () => {
    const run = await zook('cluster', 'restart', '2', '--data-dir', dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no zook cluster runs on ${dir}`);
  });

  test('restart on a dir that does not exist exits 1 saying no cluster runs there', async () => {
    const missing = join(dir, 'missing');
    const run = await zook('cluster', 'restart', '2', '--data-dir', missing);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no zook cluster runs on ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  test('restart without a server id exits 1 with its usage', async () => {
    const run = await zook('cluster', 'restart', '--data-dir', dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('restart takes one server id');
  });
});

describe('zook cluster --nodes 3 managing its servers', () => {
  let dir: string;
  let ensemblePath: string;
  let cluster: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let clientPorts: Record<string, number>;
  /** The server the leader-change test killed -9 (the adoption test brings it back). */
  let killed: number | undefined;
  let byHand: ChildProcess | undefined;
  let byHandExited: Promise<void> | undefined;

  const pids = (): Record<string, number> => JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as Record<string, number>;
  /** The last "leader is [now] server X (term T)" the cluster printed. */
  const lastLeader = (): { id: number; term: number } | null => {
    const all = [...output.matchAll(/leader is (?:now )?server (\d+) \(term (\d+)\)/g)];
    const last = all.at(-1);
    return last === undefined ? null : { id: Number(last[1]), term: Number(last[2]) };
  };
  const clusterRunning = (): void => {
    if (cluster.exitCode !== null || cluster.signalCode !== null) throw new Error(`the cluster exited:\n${output}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-cluster-manage-'));
    ensemblePath = join(dir, 'ensemble.json');
    cluster = spawn(process.execPath, [MAIN, 'cluster', '--nodes', '3', '--base-port', '0', '--data-dir', dir], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    cluster.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cluster.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => cluster.on('exit', (code) => resolve(code)));
    await until('a leader', () => (lastLeader() !== null ? true : (clusterRunning(), undefined)), 40_000);
    const ensemble = JSON.parse(readFileSync(ensemblePath, 'utf8')) as { servers: { id: number; clientPort: number }[] };
    clientPorts = Object.fromEntries(ensemble.servers.map((s) => [String(s.id), s.clientPort]));
  }, 60_000);

  afterAll(async () => {
    if (cluster.exitCode === null && cluster.signalCode === null) cluster.kill('SIGKILL');
    if (byHand?.pid !== undefined) killQuietly(byHand.pid);
    for (const pid of serverPids(ensemblePath)) killQuietly(pid);
    await until('no server of the test left', () => (serverPids(ensemblePath).length === 0 ? true : undefined), 10_000);
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  test('zook cluster restart 2 stops server 2 and starts it again: a new pid in pids.json, serving in the same term or a later one', async () => {
    const before = pids()['2'];
    const termBefore = lastLeader()!.term;
    const run = await zook('cluster', 'restart', '2', '--data-dir', dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const match = /^server 2 restarted: pid (\d+) \(was pid (\d+)\), listening$/m.exec(run.stdout);
    expect(match).not.toBeNull();
    const after = Number(match![1]);
    expect(Number(match![2])).toBe(before);
    expect(after).not.toBe(before);
    expect(pids()['2']).toBe(after);
    expect(alive(before)).toBe(false);
    expect(output).toContain(`zook cluster: server 2 restarted: pid ${after} (was pid ${before}), listening`);
    const rejoined = await until('server 2 to follow a leader again', async () => {
      const s = await status(clientPorts['2']);
      return s !== null && s.hasLeader ? s : undefined;
    }, 30_000);
    expect(rejoined.term).toBeGreaterThanOrEqual(termBefore);
  }, 60_000);

  test('zook cluster restart of a server the cluster does not have exits 1 naming the servers it has', async () => {
    const before = pids();
    const run = await zook('cluster', 'restart', '9', '--data-dir', dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no server 9: this cluster has servers 1, 2, 3');
    expect(pids()).toEqual(before);
  }, 30_000);

  test('restart 1 typed on the cluster\'s stdin restarts server 1', async () => {
    const before = pids()['1'];
    cluster.stdin!.write('restart 1\n');
    const line = await until('server 1 restarted', () => {
      clusterRunning();
      return /server 1 restarted: pid (\d+) \(was pid (\d+)\), listening/.exec(output) ?? undefined;
    }, 50_000);
    expect(Number(line[2])).toBe(before);
    expect(pids()['1']).toBe(Number(line[1]));
    expect(alive(before)).toBe(false);
  }, 60_000);

  test('an unknown command on the cluster\'s stdin gets the list of commands, and the cluster runs on', async () => {
    cluster.stdin!.write('frobnicate 2\n');
    await until('the answer', () => (output.includes('unknown command "frobnicate 2": type restart <n>, stop <n>, start <n>, status or help') ? true : undefined), 10_000);
    clusterRunning();
  });

  test('kill -9 of the leader prints "leader is now server X (term T)" with another server and a later term', async () => {
    // The restarts above may have moved leadership: wait until every server agrees with the last line.
    const leader = await until('the leader the cluster printed to be the leader', async () => {
      const shown = lastLeader()!;
      const s = await status(clientPorts[String(shown.id)]);
      return s?.role === 'leader' && s.term === shown.term ? shown : undefined;
    }, 30_000);
    killed = leader.id;
    process.kill(pids()[String(leader.id)], 'SIGKILL');
    const next = await until('a new leader line', () => {
      clusterRunning();
      const now = lastLeader()!;
      return now.term > leader.term ? now : undefined;
    }, 30_000);
    expect(next.id).not.toBe(leader.id);
    expect(output).toContain(`zook cluster: leader is now server ${next.id} (term ${next.term})`);
  }, 60_000);

  test('a server killed and run again by hand with the printed line is managed again: in pids.json, announced as back', async () => {
    if (killed === undefined) {
      killed = 3;
      process.kill(pids()['3'], 'SIGKILL');
    }
    const id = killed;
    const rerun = await until('the rerun line', () => {
      clusterRunning();
      const lines = [...output.matchAll(/to bring it back, in another terminal: (.+)$/gm)].map((m) => m[1]).filter((l) => l.includes(` --id ${id} `));
      return lines.at(-1);
    }, 20_000);
    expect(pids()).not.toHaveProperty(String(id));
    const [command, ...args] = rerun.trim().split(' ');
    expect(command).toBe(process.execPath);
    byHand = spawn(command, args, { cwd: dir, stdio: 'ignore' });
    byHandExited = new Promise((resolve) => byHand!.once('exit', () => resolve()));
    const pid = byHand.pid!;
    await until('the cluster to adopt it', () => {
      clusterRunning();
      return output.includes(`server ${id} (pid ${pid}) is back (started outside zook cluster): managed again`) ? true : undefined;
    }, 30_000);
    expect(pids()[String(id)]).toBe(pid);
  }, 60_000);

  test('zook cluster status lists every server, the one run by hand as started outside zook cluster', async () => {
    const run = await zook('cluster', 'status', '--data-dir', dir);
    expect(run.code).toBe(0);
    const current = pids();
    expect(run.stdout).toContain('3 of 3 servers running');
    for (const [id, pid] of Object.entries(current)) expect(run.stdout).toContain(`server ${id}  pid ${pid}  running`);
    expect(run.stdout).toContain(`server ${killed}  pid ${byHand!.pid}  running (started outside zook cluster`);
  }, 30_000);

  test('SIGINT stops every server, the one run by hand too (no server process left), and exits 0', async () => {
    const last = Object.values(pids());
    expect(last).toContain(byHand!.pid);
    cluster.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGINT: stopping 3 servers \(1 started outside zook cluster\)/);
    expect(output).toContain('all servers stopped');
    await until('the server run by hand to exit', () => byHandExited!.then(() => true), 10_000);
    for (const pid of last) expect(alive(pid)).toBe(false);
    expect(serverPids(ensemblePath)).toEqual([]);
  }, 40_000);
});
