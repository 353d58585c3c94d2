// A throwaway local zook ensemble for the end-to-end benchmarks (`--cluster N`):
// N server processes on 127.0.0.1, each `zook server --id i --config <file>` with
// free client and peer ports, its own temp data dir and a generated ensemble
// file; ready once GET /status on every server names the same leader (and that
// server says it leads). Stopped with SIGTERM and cleaned up. `kill(id)` and
// `restart(id)` stop one server (kill -9 by default) and start it again on the
// same ports and data dir (bench/scale: a follower's restart and catch-up time).
//
// ZOOK_BENCH_PROFILE=<dir> starts every server under `node --cpu-prof
// --cpu-prof-dir <dir>/server-<id>`: each writes a .cpuprofile when it exits,
// so the leader's profile is the one in its server's folder (see
// bench/e2e/profile-summary.ts).
// ZOOK_BENCH_NODE_FLAGS="--perf-basic-prof ..." adds Node flags to every server
// (for `perf record`, which samples CPU time where --cpu-prof samples wall time).
// ZOOK_BENCH_SERVER_MAIN=<path to a built dist/src/cli/main.js> runs another build
// of the server (an older commit's, for a before/after comparison).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_EXEC_ARGV, COMPILED } from './local-server.js';
import { distinctFreePorts } from '../../src/util/free-port.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const HOST = '127.0.0.1';

export interface LocalClusterMember {
  readonly id: number;
  readonly clientPort: number;
  readonly peerPort: number;
  /** The ZooKeeper-protocol port. */
  readonly zkPort: number;
  readonly url: string;
  readonly pid: number;
}

export interface LocalCluster {
  /** The servers in id order; a restarted server's entry has its new pid. */
  readonly members: readonly LocalClusterMember[];
  /** ws:// URL of every server, in id order: what the bench clients connect to. */
  readonly urls: readonly string[];
  /** host:zkPort of every server: a ZooKeeper connect string for ZooKeeper-protocol clients. */
  readonly zkConnectString: string;
  readonly ensembleFile: string;
  /** The leader's id when the cluster became ready. */
  readonly leader: number;
  /** GET /status of every server (id order), for reports. */
  status(): Promise<Array<Record<string, unknown> | null>>;
  /** The current leader's id as the servers report it (0 if none agreed on). */
  currentLeader(): Promise<number>;
  /** Sends `signal` (default SIGKILL) to server `id` and waits until it has exited. */
  kill(id: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts server `id` again (same ports, data dir and ensemble file) after kill; returns its new pid. */
  restart(id: number): Promise<number>;
  stop(): Promise<void>;
}


async function getStatus(port: number): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`http://${HOST}:${port}/status`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return null;
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The leader every server agrees on and that says it leads, or 0. */
function agreedLeader(statuses: ReadonlyArray<Record<string, unknown> | null>, ids: readonly number[]): number {
  if (statuses.some((s) => s === null || s.hasLeader !== true)) return 0;
  const leaders = new Set(statuses.map((s) => s!.leader as number));
  if (leaders.size !== 1) return 0;
  const leader = [...leaders][0];
  const index = ids.indexOf(leader);
  return index >= 0 && statuses[index]!.role === 'leader' ? leader : 0;
}

export async function startLocalCluster(size: number, options: { readyTimeoutMs?: number; settings?: Readonly<Record<string, unknown>> } = {}): Promise<LocalCluster> {
  if (!Number.isInteger(size) || size < 1 || size > 9) throw new Error(`--cluster takes 1..9 servers, not ${size}`);
  const root = mkdtempSync(join(tmpdir(), 'zook-bench-cluster-'));
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const ports: Array<{ clientPort: number; peerPort: number; zkPort: number }> = [];
  const port = distinctFreePorts(HOST);
  for (let i = 0; i < size; i++) ports.push({ clientPort: await port(), peerPort: await port(), zkPort: await port() });
  const ensembleFile = join(root, 'ensemble.json');
  const ensemble = {
    clusterId: `bench-${process.pid}`,
    secret: randomBytes(24).toString('hex'),
    servers: ids.map((id, i) => ({ id, host: HOST, zkPort: ports[i].zkPort, clientPort: ports[i].clientPort, peerPort: ports[i].peerPort, dataDir: join(root, `data-${id}`) })),
    ...options.settings,
  };
  writeFileSync(ensembleFile, `${JSON.stringify(ensemble, null, 2)}\n`);

  // ZOOK_BENCH_SERVER_MAIN: another build's dist/src/cli/main.js (a before/after comparison).
  const main = process.env.ZOOK_BENCH_SERVER_MAIN ?? join(here, COMPILED ? '../../src/cli/main.js' : '../../src/cli/main.ts');
  const profileDir = process.env.ZOOK_BENCH_PROFILE;
  const children: ChildProcess[] = [];
  const exits: Array<Promise<number | null>> = [];
  let stopping = false;
  const spawnServer = (index: number): void => {
    const id = ids[index];
    const nodeFlags = [...CHILD_EXEC_ARGV, ...(process.env.ZOOK_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
    if (profileDir !== undefined && profileDir !== '') {
      const dir = resolve(profileDir, `server-${id}`);
      mkdirSync(dir, { recursive: true });
      nodeFlags.push('--cpu-prof', '--cpu-prof-dir', dir);
    }
    const child = spawn(process.execPath, [...nodeFlags, main, 'server', '--id', String(id), '--config', ensembleFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Keep the pipe drained; say when a server dies under load (a finding, not noise).
    child.stdout!.on('data', () => {});
    exits[index] = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        if (!stopping && !killed.has(id)) console.error(`bench: zook server ${id} (pid ${child.pid}) exited early: code ${code} signal ${signal}`);
        resolveExit(code);
      }),
    );
    children[index] = child;
  };
  const killed = new Set<number>();
  for (let i = 0; i < size; i++) spawnServer(i);
  const members: LocalClusterMember[] = ids.map((id, i) => ({
    id,
    clientPort: ports[i].clientPort,
    peerPort: ports[i].peerPort,
    zkPort: ports[i].zkPort,
    url: `ws://${HOST}:${ports[i].clientPort}`,
    pid: children[i].pid ?? 0,
  }));
  const status = (): Promise<Array<Record<string, unknown> | null>> => Promise.all(members.map((m) => getStatus(m.clientPort)));
  const stop = async (): Promise<void> => {
    stopping = true;
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(exits);
    rmSync(root, { recursive: true, force: true });
  };
  const indexOf = (id: number): number => {
    const index = ids.indexOf(id);
    if (index < 0) throw new Error(`no server ${id} in this ${size}-server ensemble`);
    return index;
  };
  const kill = async (id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const index = indexOf(id);
    killed.add(id);
    const child = children[index];
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exits[index];
  };
  const restart = async (id: number): Promise<number> => {
    const index = indexOf(id);
    const child = children[index];
    if (child.exitCode === null && child.signalCode === null) throw new Error(`server ${id} is still running: kill it first`);
    spawnServer(index);
    killed.delete(id);
    const pid = children[index].pid ?? 0;
    members[index] = { ...members[index], pid };
    return pid;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let leader = 0;
  try {
    for (;;) {
      const dead = children.findIndex((c) => c.exitCode !== null || c.signalCode !== null);
      if (dead >= 0) throw new Error(`zook server ${ids[dead]} exited before the ensemble was ready`);
      leader = agreedLeader(await status(), ids);
      if (leader !== 0) break;
      if (Date.now() > deadline) throw new Error(`no leader known by all ${size} servers after ${options.readyTimeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    members,
    urls: members.map((m) => m.url),
    zkConnectString: ports.map((p) => `${HOST}:${p.zkPort}`).join(','),
    ensembleFile,
    leader,
    status,
    currentLeader: async () => agreedLeader(await status(), ids),
    kill,
    restart,
    stop,
  };
}
