// A real-process zook ensemble for fault tests: N `zook server --id i --config <file>`
// processes (the built dist/, not tsx) on 127.0.0.1, each with its own temp data dir
// and its OWN ensemble file. Peer links are cuttable one by one: the lower id dials
// the higher id at the peerPort its own file lists for it, so in server a's file
// every higher-id peer b points at a TcpProxy dedicated to the pair (a, b), which
// forwards to b's real peer port. cut(a, b) drops that proxy's connections and
// refuses new ones until heal(a, b).
//
// Every wait polls with a deadline; nothing sleeps a fixed time to wait for a state.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeStatus } from '../../../src/server/node-status.js';
import { ADMIN_TOKEN_HEADER, adminToken } from '../../../src/server/admin-http.js';
import { distinctFreePorts } from '../../server/support/free-port.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { sleep, until as untilValue } from '../../support/until.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');

/** Fast clocks for tests: 500 ms session ticks, 50 ms Raft ticks, elections after 0.5..1 s of silence. */
export const FAST_SETTINGS: Readonly<Record<string, unknown>> = {
  tickMs: 500,
  raftTickMs: 50,
  electionTicks: 10,
  heartbeatTicks: 1,
};

export interface ClusterOptions {
  /** How many servers (ids 1..size). */
  readonly size: number;
  /** Top-level ensemble settings, on top of FAST_SETTINGS. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** A different secret for some servers' own files (they cannot authenticate). */
  readonly secretOf?: (id: number) => string | undefined;
  /** Ids that are listed but not started by start(). */
  readonly startOnly?: readonly number[];
  /** Where a server keeps its data (default: a dir under the cluster's temp dir), e.g. on a small filesystem. */
  readonly dataDirOf?: (id: number) => string | undefined;
}

export const CLUSTER_ID = 'zook-cluster-test';
export const SECRET = 'cluster-test-secret-0123456789';

export { sleep };

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs` naming `what`. */
export function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, intervalMs = 50): Promise<T> {
  return untilValue(what, probe, timeoutMs, intervalMs);
}

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

export class Cluster {
  readonly ids: number[];
  readonly clientPort = new Map<number, number>();
  /** ZooKeeper-protocol port of each server. */
  readonly zkPort = new Map<number, number>();
  readonly peerPort = new Map<number, number>();
  readonly dataDir = new Map<number, string>();
  readonly configFile = new Map<number, string>();
  /** Proxy for the link (lower, higher), keyed `${lower}-${higher}`. */
  private readonly proxies = new Map<string, TcpProxy>();
  private readonly procs = new Map<number, Proc>();
  private readonly output = new Map<number, string>();
  private readonly root: string;

  private constructor(readonly size: number, root: string) {
    this.root = root;
    this.ids = Array.from({ length: size }, (_, i) => i + 1);
  }

  /** Writes the files and starts every server (except options.startOnly's complement). */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(options.size, mkdtempSync(join(tmpdir(), 'zook-cluster-')));
    try {
      await cluster.prepare(options);
      const toStart = options.startOnly ?? cluster.ids;
      await Promise.all(toStart.map((id) => cluster.startServer(id)));
    } catch (error) {
      await cluster.stopAll();
      throw error;
    }
    return cluster;
  }

  private async prepare(options: ClusterOptions): Promise<void> {
    const port = distinctFreePorts();
    for (const id of this.ids) {
      this.clientPort.set(id, await port());
      this.zkPort.set(id, await port());
      this.peerPort.set(id, await port());
      const dir = options.dataDirOf?.(id) ?? join(this.root, `data-${id}`);
      this.dataDir.set(id, dir);
    }
    for (const lo of this.ids) {
      for (const hi of this.ids) {
        if (hi <= lo) continue;
        this.proxies.set(`${lo}-${hi}`, await TcpProxy.start(this.peerPort.get(hi)!));
      }
    }
    const settings = { ...FAST_SETTINGS, ...options.settings };
    for (const me of this.ids) {
      const servers = this.ids.map((id) => ({
        id,
        host: '127.0.0.1',
        clientPort: this.clientPort.get(id)!,
        zkPort: this.zkPort.get(id)!,
        // Only the lower id dials: a higher peer is reached through the (me, id) proxy.
        peerPort: id > me ? this.proxies.get(`${me}-${id}`)!.port : this.peerPort.get(id)!,
        dataDir: this.dataDir.get(id)!,
      }));
      const file = join(this.root, `ensemble-${me}.json`);
      const secret = options.secretOf?.(me) ?? SECRET;
      writeFileSync(file, JSON.stringify({ clusterId: CLUSTER_ID, secret, servers, ...settings }, null, 2));
      this.configFile.set(me, file);
    }
  }

  /** Starts server `id` (again) with its data dir and file; resolves once it printed its listening line. */
  async startServer(id: number): Promise<void> {
    if (this.isRunning(id)) throw new Error(`server ${id} is already running`);
    // ZOOK_CLUSTER_NODE_ARGS: extra node flags for every server (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
    const nodeArgs = (process.env.ZOOK_CLUSTER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...nodeArgs, MAIN, 'server', '--id', String(id), '--config', this.configFile.get(id)!], {
      cwd: this.root,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    this.procs.set(id, { child, exited });
    let out = `${this.output.get(id) ?? ''}--- start ${new Date().toISOString()}\n`;
    this.output.set(id, out);
    await new Promise<void>((resolve, reject) => {
      let done = false;
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        this.output.set(id, out);
        if (!done && /listening on ws:\/\//.test(out.slice(out.lastIndexOf('--- start')))) {
          done = true;
          resolve();
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        this.output.set(id, out);
      });
      void exited.then((code) => {
        if (!done) reject(new Error(`server ${id} exited with ${code} before listening:\n${out}`));
      });
    });
  }

  isRunning(id: number): boolean {
    const p = this.procs.get(id);
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  /** The OS pid of server `id`'s current process (undefined when it is not running). */
  pid(id: number): number | undefined {
    return this.isRunning(id) ? this.procs.get(id)?.child.pid : undefined;
  }

  live(): number[] {
    return this.ids.filter((id) => this.isRunning(id));
  }

  /** What server `id` printed (all its runs). */
  log(id: number): string {
    return this.output.get(id) ?? '';
  }

  /** A crash: SIGKILL, nothing flushed. Resolves once the process is gone. */
  async kill9(id: number): Promise<void> {
    const p = this.procs.get(id);
    if (p === undefined) return;
    if (this.isRunning(id)) p.child.kill('SIGKILL');
    await p.exited;
  }

  /** A graceful stop; resolves with the exit code. */
  async sigterm(id: number): Promise<number | null> {
    const p = this.procs.get(id);
    if (p === undefined) return null;
    if (this.isRunning(id)) p.child.kill('SIGTERM');
    return p.exited;
  }

  /** Starts a stopped server again on the same data dir, ports and file. */
  async restart(id: number): Promise<void> {
    if (this.isRunning(id)) await this.kill9(id);
    await this.startServer(id);
  }

  private proxy(a: number, b: number): TcpProxy {
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    const proxy = this.proxies.get(key);
    if (proxy === undefined) throw new Error(`no link ${key}`);
    return proxy;
  }

  cut(a: number, b: number): void {
    this.proxy(a, b).cutLinks();
  }

  heal(a: number, b: number): void {
    this.proxy(a, b).heal();
  }

  /** Cuts every peer link of `id` (its clients can still reach it). */
  isolate(id: number): void {
    for (const other of this.ids) if (other !== id) this.cut(id, other);
  }

  healAll(): void {
    for (const proxy of this.proxies.values()) proxy.heal();
  }

  /** `ws://127.0.0.1:port,...` of every server (or of `ids`). */
  connectString(ids: readonly number[] = this.ids): string {
    return ids.map((id) => this.url(id)).join(',');
  }

  url(id: number): string {
    return `ws://127.0.0.1:${this.clientPort.get(id)!}`;
  }

  /** Which server id a client URL belongs to (0 when none). */
  idOfUrl(url: string | undefined): number {
    if (url === undefined) return 0;
    const port = Number(/:(\d+)\/?$/.exec(url)?.[1]);
    for (const [id, p] of this.clientPort) if (p === port) return id;
    return 0;
  }

  private httpBase(id: number): string {
    return `http://127.0.0.1:${this.clientPort.get(id)!}`;
  }

  /** GET /status of server `id`; null when it does not answer (down, or too busy within `timeoutMs`). */
  async status(id: number, timeoutMs = 1500): Promise<NodeStatus | null> {
    if (!this.isRunning(id)) return null;
    try {
      const res = await fetch(`${this.httpBase(id)}/status`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) return null;
      return (await res.json()) as NodeStatus;
    } catch {
      return null;
    }
  }

  async health(id: number): Promise<{ code: number; body: { hasLeader: boolean; leader: number; role: string } }> {
    const res = await fetch(`${this.httpBase(id)}/health`, { signal: AbortSignal.timeout(1500) });
    return { code: res.status, body: (await res.json()) as { hasLeader: boolean; leader: number; role: string } };
  }

  async metrics(id: number): Promise<string> {
    const res = await fetch(`${this.httpBase(id)}/metrics`, { signal: AbortSignal.timeout(1500) });
    return res.text();
  }

  /** POST an admin endpoint on server `id` with the ensemble's admin token. */
  async admin(id: number, pathAndQuery: string): Promise<{ code: number; body: unknown }> {
    const res = await fetch(`${this.httpBase(id)}${pathAndQuery}`, {
      method: 'POST',
      headers: { [ADMIN_TOKEN_HEADER]: adminToken(SECRET, CLUSTER_ID) },
      signal: AbortSignal.timeout(10_000),
    });
    return { code: res.status, body: await res.json() };
  }

  /** Statuses of every live server that answers. */
  async statuses(ids: readonly number[] = this.live()): Promise<Map<number, NodeStatus>> {
    const all = await Promise.all(ids.map(async (id) => [id, await this.status(id)] as const));
    return new Map(all.filter((e): e is readonly [number, NodeStatus] => e[1] !== null));
  }

  /**
   * The leader a majority of the ensemble agrees on: at least floor(voters/2)+1 live
   * servers name the same leader in the same term, and that server says it leads in that term.
   * `exclude`: a leader id not to accept (e.g. the one just killed or isolated).
   */
  async leader(timeoutMs = 15_000, exclude: readonly number[] = []): Promise<number> {
    return until(`a leader agreed by a majority${exclude.length > 0 ? ` (not ${exclude.join(', ')})` : ''}`, timeoutMs, async () => {
      const st = await this.statuses();
      const votes = new Map<string, number>();
      let voters = this.size;
      for (const s of st.values()) {
        if (s.role === 'leader') voters = s.voters.length;
        if (!s.hasLeader) continue;
        const key = `${s.leader}@${s.term}`;
        votes.set(key, (votes.get(key) ?? 0) + 1);
      }
      for (const [key, n] of votes) {
        const [leader, term] = key.split('@').map(Number);
        if (exclude.includes(leader)) continue;
        const self = st.get(leader);
        if (n >= Math.floor(voters / 2) + 1 && self !== undefined && self.role === 'leader' && self.term === term) return leader;
      }
      return undefined;
    });
  }

  /**
   * Waits until every server in `ids` (default: all live) answers with the same
   * appliedIndex and digest, at least `minIndex`; returns that common status.
   */
  async waitConverged(timeoutMs = 20_000, ids: readonly number[] = this.live(), minIndex = 0): Promise<{ appliedIndex: number; digest: string }> {
    let last = '';
    try {
      return await until(`servers ${ids.join(', ')} to converge`, timeoutMs, async () => {
        const st = await this.statuses(ids);
        last = [...st.values()].map((s) => `${s.serverId}:${s.role} applied=${s.appliedIndex} commit=${s.commitIndex} digest=${s.digest}`).join('; ');
        if (st.size !== ids.length) return undefined;
        const values = [...st.values()];
        const first = values[0];
        if (first.appliedIndex < minIndex) return undefined;
        if (!values.every((s) => s.appliedIndex === first.appliedIndex && s.digest === first.digest)) return undefined;
        return { appliedIndex: first.appliedIndex, digest: first.digest };
      }, 100);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n  last seen: ${last}`);
    }
  }

  /** Kills every server and proxy, removes the temp dir. */
  async stopAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.kill9(id)));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
    this.proxies.clear();
    rmSync(this.root, { recursive: true, force: true });
  }
}
