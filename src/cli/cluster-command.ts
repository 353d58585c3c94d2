// `zook cluster`: a local ensemble on 127.0.0.1 for trying zook out. Writes an
// ensemble file (or reuses the one from a previous run, so a restart keeps the
// data and the secret) and runs each server as its own child process, exactly as
// `zook server --id i --config DIR/ensemble.json` would on a real machine. A
// child that dies is reported and the others keep running: kill one and go on.
// One run per dir: `zook cluster` holds DIR's lock while it runs, and refuses to
// start while servers of an earlier run still hold their data dirs. A server that
// exits before it listens stops the run (the servers already started included):
// no half ensemble is left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseEnsemble, zkAddresses, type Ensemble } from '../server/cluster/ensemble.js';
import { DataDirLock, DataDirLocked, dataDirHolder, describeHolder } from '../storage/data-dir-lock.js';
import { freePort } from '../util/free-port.js';

export const CLUSTER_USAGE = `zook cluster [options]
  a local ensemble on 127.0.0.1, one child process per server (Ctrl-C stops all)
  --nodes <n>            servers, 1..7 (default 3)
  --base-port <p>        ZooKeeper client ports p..p+n-1, zook WebSocket/HTTP ports
                         p+6000..p+6000+n-1, peer ports p+1000..p+1000+n-1
                         (default 2181: 2181.., 8181.., 3181..; 0 picks free ports)
  --data-dir <dir>       server i keeps its data in <dir>/<i>/ (default ./zook-cluster);
                         <dir>/ensemble.json is the ensemble file (reused on restart),
                         <dir>/pids.json the servers' process ids`;

const PEER_PORT_OFFSET = 1000;
/** 2181 -> 8181: zook's WebSocket/HTTP port beside ZooKeeper's client port. */
const WS_PORT_OFFSET = 6000;
const PORTS_PER_SERVER = 3;
const MAX_NODES = 7;
const LISTEN_TIMEOUT_MS = 30_000;
const LEADER_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

interface Child {
  readonly id: number;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  listening: boolean;
}


function positiveInt(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`cluster: ${what} must be an integer ${min}..${max}, got "${text}"`);
  return n;
}

/** The ensemble file for a fresh cluster: ports by the scheme above (or free ones), a random secret. */
async function newEnsembleFile(nodes: number, basePort: number, dir: string): Promise<unknown> {
  const ports: number[] = [];
  if (basePort === 0) {
    const seen = new Set<number>();
    while (ports.length < PORTS_PER_SERVER * nodes) {
      const port = await freePort();
      if (!seen.has(port)) {
        seen.add(port);
        ports.push(port);
      }
    }
  }
  const servers = [];
  for (let i = 0; i < nodes; i++) {
    const id = i + 1;
    servers.push({
      id,
      host: '127.0.0.1',
      zkPort: basePort === 0 ? ports[PORTS_PER_SERVER * i] : basePort + i,
      clientPort: basePort === 0 ? ports[PORTS_PER_SERVER * i + 1] : basePort + WS_PORT_OFFSET + i,
      peerPort: basePort === 0 ? ports[PORTS_PER_SERVER * i + 2] : basePort + PEER_PORT_OFFSET + i,
      dataDir: join(dir, String(id)),
    });
  }
  return { clusterId: 'zook-cluster', secret: randomBytes(32).toString('hex'), servers };
}

/** How to run main.js again in a child: the built file, or the .ts one under tsx (then with the same loader flags). */
function mainCommand(): { execArgv: string[]; main: string } {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  return { execArgv: ts ? process.execArgv : [], main: fileURLToPath(new URL(ts ? './main.ts' : './main.js', here)) };
}

function pipeLines(stream: NodeJS.ReadableStream | null, prefix: string, out: NodeJS.WriteStream, onLine?: (line: string) => void): void {
  if (stream === null) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    out.write(`${prefix}${line}\n`);
    onLine?.(line);
  });
}

async function fetchStatus(host: string, port: number): Promise<{ role: string; leader: number; term: number } | null> {
  try {
    const response = await fetch(`http://${host}:${port}/status`, { signal: AbortSignal.timeout(1000) });
    if (!response.ok) return null;
    return (await response.json()) as { role: string; leader: number; term: number };
  } catch {
    return null;
  }
}

export async function clusterCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string', default: '3' },
      'base-port': { type: 'string', default: '2181' },
      'data-dir': { type: 'string', default: './zook-cluster' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(CLUSTER_USAGE);
    return;
  }
  const nodes = positiveInt(values.nodes!, '--nodes', 1, MAX_NODES);
  const basePort = positiveInt(values['base-port']!, '--base-port', 0, 65535 - PEER_PORT_OFFSET - (MAX_NODES - 1));
  const dir = resolve(values['data-dir']!);
  const ensemblePath = join(dir, 'ensemble.json');
  const pidsPath = join(dir, 'pids.json');

  // Before ensemble.json or pids.json is read or written: they belong to the run holding the dir.
  mkdirSync(dir, { recursive: true });
  let runLock: DataDirLock;
  try {
    runLock = await DataDirLock.acquire(dir, 'zook cluster');
  } catch (error) {
    if (!(error instanceof DataDirLocked)) throw error;
    const who = error.holder === null ? 'another live process' : describeHolder(error.holder);
    throw new Error(`cluster: ${dir} is in use by ${who}: a cluster already runs on it. Stop it first (Ctrl-C where it runs), or use another --data-dir`);
  }

  let ensemble: Ensemble;
  if (existsSync(ensemblePath)) {
    ensemble = parseEnsemble(JSON.parse(readFileSync(ensemblePath, 'utf8')));
    if (ensemble.servers.length !== nodes) {
      throw new Error(
        `cluster: ${ensemblePath} lists ${ensemble.servers.length} servers, not ${nodes}: restart it with --nodes ${ensemble.servers.length}, or use another --data-dir`,
      );
    }
    console.log(`zook cluster: reusing ${ensemblePath} (same ports, secret and data)`);
  } else {
    const file = await newEnsembleFile(nodes, basePort, dir);
    ensemble = parseEnsemble(file);
    writeFileSync(ensemblePath, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    console.log(`zook cluster: wrote ${ensemblePath}`);
  }

  // Servers of an earlier run whose `zook cluster` was killed may still run (and hold their dirs).
  const held: string[] = [];
  for (const server of ensemble.servers) {
    const serverDir = resolve(server.dataDir ?? `./zook-data-${server.id}`);
    const holder = await dataDirHolder(serverDir);
    if (holder !== null) held.push(`server ${server.id}'s data dir ${serverDir} is in use by ${holder.holder === null ? 'another live process' : describeHolder(holder.holder)}`);
  }
  if (held.length > 0) {
    await runLock.release();
    throw new Error(`cluster: ${held.join('; ')}. Servers of an earlier run still run: stop them first (kill their pids), or use another --data-dir`);
  }

  const { execArgv, main } = mainCommand();
  const children: Child[] = [];
  /** Until every server listened (or the wait timed out), an exit means this run failed to start. */
  let starting = true;
  let stopping = false;
  let allListening: () => void = () => {};
  const listening = new Promise<void>((resolveListening) => (allListening = resolveListening));

  const checkListening = (): void => {
    const done = (c: Child): boolean => c.listening || c.process.exitCode !== null || c.process.signalCode !== null;
    if (children.length === ensemble.servers.length && children.every(done)) allListening();
  };
  const writePids = (): void => {
    const pids: Record<string, number> = {};
    for (const c of children) if (c.process.pid !== undefined && c.process.exitCode === null && c.process.signalCode === null) pids[String(c.id)] = c.process.pid;
    writeFileSync(pidsPath, `${JSON.stringify(pids, null, 2)}\n`);
  };

  const stopAll = async (signal: string, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const alive = children.filter((c) => c.process.exitCode === null && c.process.signalCode === null);
    console.log(`zook cluster: ${signal}: stopping ${alive.length} servers`);
    for (const c of alive) c.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout(true), STOP_TIMEOUT_MS)));
    const late = await Promise.race([Promise.all(alive.map((c) => c.exited)).then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      for (const c of alive) {
        if (c.process.exitCode === null && c.process.signalCode === null) {
          console.log(`zook cluster: server ${c.id} did not stop within ${STOP_TIMEOUT_MS} ms: SIGKILL`);
          c.process.kill('SIGKILL');
        }
      }
      await Promise.all(alive.map((c) => c.exited));
    }
    rmSync(pidsPath, { force: true });
    await runLock.release();
    console.log('zook cluster: all servers stopped');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  for (const server of ensemble.servers) {
    const child = spawn(process.execPath, [...execArgv, main, 'server', '--id', String(server.id), '--config', ensemblePath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    const entry: Child = { id: server.id, process: child, exited, listening: false };
    children.push(entry);
    const prefix = `[${server.id}] `;
    pipeLines(child.stdout, prefix, process.stdout, (line) => {
      if (!entry.listening && line.includes('listening on ws://')) {
        entry.listening = true;
        checkListening();
      }
    });
    pipeLines(child.stderr, prefix, process.stderr);
    child.once('error', (error) => console.error(`zook cluster: server ${server.id} could not start: ${error.message}`));
    child.once('exit', (code, signal) => {
      checkListening();
      if (stopping) return;
      const how = signal === null ? `exit code ${code}` : signal;
      if (starting && !entry.listening) {
        console.error(`zook cluster: server ${server.id} (pid ${child.pid}) exited (${how}) before it was listening (see its output above)`);
        void stopAll(`server ${server.id} did not start`, 1);
        return;
      }
      writePids();
      const alive = children.filter((c) => c.process.exitCode === null && c.process.signalCode === null).length;
      console.log(`zook cluster: server ${server.id} (pid ${child.pid}) exited (${how}); ${alive} of ${children.length} still running`);
      if (alive === 0) {
        console.error('zook cluster: no server left running');
        rmSync(pidsPath, { force: true });
        process.exit(1);
      }
      const rerun = `${process.execPath} ${[...execArgv, main].join(' ')} server --id ${server.id} --config ${ensemblePath}`;
      console.log(`zook cluster: to bring it back, in another terminal: ${rerun}`);
    });
  }
  writePids();

  let listenTimer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    listening.then(() => true),
    new Promise<boolean>((resolveTimeout) => (listenTimer = setTimeout(() => resolveTimeout(false), LISTEN_TIMEOUT_MS))),
  ]);
  clearTimeout(listenTimer);
  starting = false;
  if (stopping) return;
  if (!inTime) console.log(`zook cluster: not every server was listening after ${LISTEN_TIMEOUT_MS} ms (see their output above)`);

  const connectString = ensemble.servers.map((s) => `${s.host}:${s.clientPort}`).join(',');
  const zkConnectString = zkAddresses(ensemble).join(',');
  const lines = [
    `zook cluster: ${ensemble.servers.length} servers (ensemble file ${ensemblePath}, data in ${dir}/<id>/)`,
    ...ensemble.servers.map((s) => {
      const c = children.find((x) => x.id === s.id)!;
      return `  server ${s.id}  ZooKeeper ${s.host}:${s.zkPort}  zook ws://${s.host}:${s.clientPort}  peer ${s.peerPort}  pid ${c.process.pid}`;
    }),
    `ZooKeeper connect string: ${zkConnectString}`,
    `zook connect string:      ${connectString}`,
    `shell:          npx zook shell --server ${connectString}`,
    `status:         npx zook admin status --config ${ensemblePath}`,
    `pids:           ${pidsPath} (kill -9 one of them: the others keep serving)`,
    'Ctrl-C stops every server.',
  ];
  console.log(lines.join('\n'));

  // Say who leads once there is a leader (an election takes a second or two).
  const deadline = Date.now() + LEADER_TIMEOUT_MS;
  while (!stopping && Date.now() < deadline) {
    const statuses = await Promise.all(ensemble.servers.map((s) => fetchStatus(s.host, s.clientPort)));
    const leader = statuses.find((s) => s !== null && (s.role === 'leader' || s.role === 'standalone'));
    if (leader) {
      if (!stopping) console.log(`zook cluster: leader is server ${leader.leader} (term ${leader.term})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (!stopping) console.log(`zook cluster: no leader after ${LEADER_TIMEOUT_MS} ms (is a majority running?)`);
}
