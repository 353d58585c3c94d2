// `zook cluster`: a local ensemble on 127.0.0.1 for trying zook out. Writes an
// ensemble file (or reuses the one from a previous run, so a restart keeps the
// data and the secret) and runs each server as its own child process, exactly as
// `zook server --id i --config DIR/ensemble.json` would on a real machine. A
// child that dies is reported and the others keep running: kill one and go on.
// One run per dir: `zook cluster` holds DIR's lock while it runs, and refuses to
// start while servers of an earlier run still hold their data dirs. A server that
// exits before it listens stops the run (the servers already started included):
// no half ensemble is left behind.
//
// While it runs it keeps managing its servers:
// - `zook cluster restart|stop|start N` in another terminal (through the run's
//   control socket, src/cli/cluster-control.ts), or the same words typed on its
//   standard input, act on server N; `status` lists them.
// - A server brought back by hand (the `zook server` line printed when it exited)
//   is found within ADOPT_POLL_MS by asking who holds its data dir, and managed
//   again: listed in pids.json, stopped on Ctrl-C. It is not our child, so its
//   output stays in its own terminal, and its exit is seen when it releases its
//   data dir (polled), not by an exit event.
// - Every server's /status is read every LEADER_POLL_MS: a new (leader, term) is
//   printed as it happens, and "no leader" once none is seen for a while.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, fstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseEnsemble, zkAddresses, type Ensemble, type EnsembleServer } from '../server/cluster/ensemble.js';
import { DataDirLock, DataDirLocked, dataDirHolder, describeHolder } from '../storage/data-dir-lock.js';
import { freePort } from '../util/free-port.js';
import { ControlUnreachable, listenControl, sendControl, type ControlReply, type ControlRequest, type ControlServer } from './cluster-control.js';

export const CLUSTER_USAGE = `zook cluster [options]
  a local ensemble on 127.0.0.1, one child process per server (Ctrl-C stops all)
  --nodes <n>            servers, 1..7 (default 3)
  --base-port <p>        ZooKeeper client ports p..p+n-1, zook WebSocket/HTTP ports
                         p+6000..p+6000+n-1, peer ports p+1000..p+1000+n-1
                         (default 2181: 2181.., 8181.., 3181..; 0 picks free ports)
  --data-dir <dir>       server i keeps its data in <dir>/<i>/ (default ./zook-cluster);
                         <dir>/ensemble.json is the ensemble file (reused on restart),
                         <dir>/pids.json the servers' process ids
  While it runs it prints each change of leader, takes restart <n>, stop <n>,
  start <n>, status and help on its standard input (a terminal or a pipe), and
  manages a server brought back by hand again (pids.json, Ctrl-C).
zook cluster restart|stop|start <n> [--data-dir <dir>]
  asks the cluster running on <dir> to restart, stop or start its server <n>
  (stop: SIGTERM, SIGKILL after 10 s; start: until it listens); exit 1 if no
  cluster runs on <dir> or it has no server <n>
zook cluster status [--data-dir <dir>]
  the servers of the cluster running on <dir>: pid, started by it or by hand`;

const PEER_PORT_OFFSET = 1000;
/** 2181 -> 8181: zook's WebSocket/HTTP port beside ZooKeeper's client port. */
const WS_PORT_OFFSET = 6000;
const PORTS_PER_SERVER = 3;
const MAX_NODES = 7;
const LISTEN_TIMEOUT_MS = 30_000;
const LEADER_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** How often a server that is down is checked for having been started by hand, and one started by hand for having exited. */
const ADOPT_POLL_MS = 1000;
/** How often every server's /status is read to see who leads. */
const LEADER_POLL_MS = 500;
/** Once a leader was seen: how long without one before "no leader" is said (an election takes 1-2 s). */
const NO_LEADER_REPORT_MS = 5000;
/** How often a stopping server started by hand is checked for having released its data dir. */
const RELEASE_POLL_MS = 100;
/** How often a cluster reading commands from its terminal checks that it is still in the foreground. */
const FOREGROUND_POLL_MS = 500;
/** How long `zook cluster restart` waits for the reply: a stop (SIGTERM, then SIGKILL) and a start. */
const CONTROL_REPLY_TIMEOUT_MS = 2 * STOP_TIMEOUT_MS + LISTEN_TIMEOUT_MS + 10_000;

const STDIN_HELP = `zook cluster: commands (type them here):
  restart <n>   stop server <n> (SIGTERM, SIGKILL after ${STOP_TIMEOUT_MS} ms) and start it again
  stop <n>      stop server <n>
  start <n>     start server <n> again
  status        the servers, their pids, who leads
  help          this text
  (the same from another terminal: zook cluster restart <n> --data-dir <dir>)`;

/** One server of the ensemble and the process running it, if any. */
interface Slot {
  readonly server: EnsembleServer;
  readonly dataDir: string;
  /** Our child running it; null when it is down or runs as a process we did not start. */
  child: ChildProcess | null;
  /** Resolves once `child` has exited. */
  exited: Promise<void>;
  /** The process running it (our child, or one started by hand and adopted); null when down. */
  pid: number | null;
  /** The child printed its listening line. */
  listening: boolean;
  /** The command under way on it (restart, stop, start), null when none: one at a time. */
  busy: string | null;
  /** Its process's coming exit was asked for: the asker reports it, not as a crash. */
  exitRequested: boolean;
  /** A holder of its data dir that is not one of our servers, already reported (said once). */
  reportedForeign: number | null;
}

type Outcome = { readonly listening: true } | { readonly listening: false; readonly why: string };

function positiveInt(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`cluster: ${what} must be an integer ${min}..${max}, got "${text}"`);
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether this process is in its terminal's foreground process group (Linux, from
 * /proc/self/stat: pgrp is field 5, the terminal's foreground group tpgid field 8).
 * Elsewhere: assumed, as for any program that reads its terminal.
 */
function inForeground(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]) === Number(fields[5]);
  } catch {
    return true;
  }
}

/** Sends a signal to a process we did not start; one already gone is fine. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH') throw new Error(`cannot send ${signal} to pid ${pid}: ${code ?? String(error)}`);
  }
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

async function fetchStatus(host: string, port: number): Promise<{ serverId: number; role: string; leader: number; term: number } | null> {
  try {
    const response = await fetch(`http://${host}:${port}/status`, { signal: AbortSignal.timeout(1000) });
    if (!response.ok) return null;
    return (await response.json()) as { serverId: number; role: string; leader: number; term: number };
  } catch {
    return null;
  }
}

function serverDataDir(server: EnsembleServer): string {
  return resolve(server.dataDir ?? `./zook-data-${server.id}`);
}

const isServerCommand = (word: string | undefined): word is 'restart' | 'stop' | 'start' => word === 'restart' || word === 'stop' || word === 'start';

export async function clusterCommand(argv: string[]): Promise<void> {
  if (isServerCommand(argv[0]) || argv[0] === 'status') return controlCommand(argv[0], argv.slice(1));
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
    const serverDir = serverDataDir(server);
    const holder = await dataDirHolder(serverDir);
    if (holder !== null) held.push(`server ${server.id}'s data dir ${serverDir} is in use by ${holder.holder === null ? 'another live process' : describeHolder(holder.holder)}`);
  }
  if (held.length > 0) {
    await runLock.release();
    throw new Error(`cluster: ${held.join('; ')}. Servers of an earlier run still run: stop them first (kill their pids), or use another --data-dir`);
  }

  await new ClusterRun(ensemble, dir, ensemblePath, runLock).start();
}

/** A running `zook cluster`: its servers, and what watches and commands them. */
class ClusterRun {
  private readonly slots: Slot[];
  private readonly pidsPath: string;
  private readonly command = mainCommand();
  /** Until every server listened (or the wait timed out), an exit before listening means this run failed to start. */
  private starting = true;
  private stopping = false;
  private control: ControlServer | null = null;
  /** The (leader, term) last printed; null before the first one and after "no leader". */
  private shownLeader: { readonly id: number; readonly term: number } | null = null;

  constructor(
    private readonly ensemble: Ensemble,
    private readonly dir: string,
    private readonly ensemblePath: string,
    private readonly runLock: DataDirLock,
  ) {
    this.pidsPath = join(dir, 'pids.json');
    this.slots = ensemble.servers.map((server) => ({
      server,
      dataDir: serverDataDir(server),
      child: null,
      exited: Promise.resolve(),
      pid: null,
      listening: false,
      busy: null,
      exitRequested: false,
      reportedForeign: null,
    }));
  }

  async start(): Promise<void> {
    process.on('SIGINT', () => void this.stopAll('SIGINT'));
    process.on('SIGTERM', () => void this.stopAll('SIGTERM'));

    const outcomes = this.slots.map((slot) => this.spawnServer(slot));
    const inTime = await within(Promise.all(outcomes), LISTEN_TIMEOUT_MS);
    this.starting = false;
    if (this.stopping) return;
    if (!inTime) console.log(`zook cluster: not every server was listening after ${LISTEN_TIMEOUT_MS} ms (see their output above)`);

    try {
      this.control = await listenControl(this.dir, (request) => this.perform(request, `zook cluster ${request.command}`));
    } catch (error) {
      console.error(`zook cluster: ${error instanceof Error ? error.message : String(error)}; zook cluster restart|stop|start|status will not reach this run`);
    }
    const fromStdin = this.readStdin();

    const { ensemble, dir, ensemblePath } = this;
    const connectString = ensemble.servers.map((s) => `${s.host}:${s.clientPort}`).join(',');
    const zkConnectString = zkAddresses(ensemble).join(',');
    const dirFlag = `--data-dir ${dir}`;
    const lines = [
      `zook cluster: ${ensemble.servers.length} servers (ensemble file ${ensemblePath}, data in ${dir}/<id>/)`,
      ...this.slots.map(
        (slot) =>
          `  server ${slot.server.id}  ZooKeeper ${slot.server.host}:${slot.server.zkPort}  zook ws://${slot.server.host}:${slot.server.clientPort}  peer ${slot.server.peerPort}  pid ${slot.pid ?? '-'}`,
      ),
      `ZooKeeper connect string: ${zkConnectString}`,
      `zook connect string:      ${connectString}`,
      `shell:          npx zook shell --server ${connectString}`,
      `status:         npx zook admin status --config ${ensemblePath}`,
      `pids:           ${this.pidsPath} (kill -9 one of them: the others keep serving)`,
      `manage:         npx zook cluster restart|stop|start <id> ${dirFlag}, npx zook cluster status ${dirFlag}`,
      ...(fromStdin ? ['                or type restart <id>, stop <id>, start <id>, status or help here'] : []),
      'Ctrl-C stops every server (one brought back by hand too).',
    ];
    console.log(lines.join('\n'));

    void this.watchLeader();
    void this.watchDataDirs();
  }

  private serverArgs(id: number): string[] {
    return [...this.command.execArgv, this.command.main, 'server', '--id', String(id), '--config', this.ensemblePath];
  }

  private running(): Slot[] {
    return this.slots.filter((s) => s.pid !== null);
  }

  private writePids(): void {
    if (this.stopping) return;
    const pids: Record<string, number> = {};
    for (const s of this.slots) if (s.pid !== null) pids[String(s.server.id)] = s.pid;
    writeFileSync(this.pidsPath, `${JSON.stringify(pids, null, 2)}\n`);
  }

  /** Starts a server as our child; resolves once it listens or exits, whichever comes first. */
  private spawnServer(slot: Slot): Promise<Outcome> {
    if (this.stopping) return Promise.resolve({ listening: false, why: 'was not started: the cluster is stopping' });
    const id = slot.server.id;
    // Readable log lines (each printed with its "[id] " prefix), though stdout is a pipe here.
    const child = spawn(process.execPath, this.serverArgs(id), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZOOK_LOG_FORMAT: 'pretty' } });
    slot.child = child;
    slot.pid = child.pid ?? null;
    slot.listening = false;
    slot.exitRequested = false;
    slot.exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    let settle: (outcome: Outcome) => void = () => {};
    const outcome = new Promise<Outcome>((resolveOutcome) => (settle = resolveOutcome));
    const prefix = `[${id}] `;
    pipeLines(child.stdout, prefix, process.stdout, (line) => {
      if (!slot.listening && slot.child === child && line.includes('listening on ws://')) {
        slot.listening = true;
        settle({ listening: true });
      }
    });
    pipeLines(child.stderr, prefix, process.stderr);
    child.once('error', (error) => {
      console.error(`zook cluster: server ${id} could not start: ${error.message}`);
      settle({ listening: false, why: `could not start: ${error.message}` });
      if (child.pid === undefined && slot.child === child) {
        slot.child = null;
        slot.pid = null;
      }
    });
    child.once('exit', (code, signal) => {
      const how = signal === null ? `exit code ${code}` : signal;
      settle({ listening: false, why: `exited (${how}) before it was listening (see its output above)` });
      this.onChildExit(slot, child, how);
    });
    this.writePids();
    return outcome;
  }

  private onChildExit(slot: Slot, child: ChildProcess, how: string): void {
    if (slot.child !== child) return;
    const id = slot.server.id;
    const wasListening = slot.listening;
    const requested = slot.exitRequested;
    slot.child = null;
    slot.pid = null;
    slot.listening = false;
    slot.exitRequested = false;
    if (this.stopping) return;
    if (this.starting && !wasListening) {
      console.error(`zook cluster: server ${id} (pid ${child.pid}) exited (${how}) before it was listening (see its output above)`);
      void this.stopAll(`server ${id} did not start`, 1);
      return;
    }
    this.writePids();
    if (!requested) this.reportGone(slot, `server ${id} (pid ${child.pid}) exited (${how})`);
  }

  /** An exit nobody asked for: say so, and how to bring the server back. */
  private reportGone(slot: Slot, what: string): void {
    const id = slot.server.id;
    const alive = this.running().length;
    console.log(`zook cluster: ${what}; ${alive} of ${this.slots.length} still running`);
    if (alive === 0 && this.slots.every((s) => s.busy === null)) {
      console.error('zook cluster: no server left running');
      rmSync(this.pidsPath, { force: true });
      if (this.control !== null) rmSync(this.control.path, { force: true });
      process.exit(1);
    }
    const rerun = `${process.execPath} ${this.serverArgs(id).join(' ')}`;
    console.log(`zook cluster: to bring it back, in another terminal: ${rerun}`);
    console.log(`zook cluster: (or: npx zook cluster start ${id} --data-dir ${this.dir}; a server brought back by hand is managed again)`);
  }

  /**
   * Stops the process running `slot`: SIGTERM, SIGKILL after STOP_TIMEOUT_MS. Our
   * child is gone on its exit event; one started by hand once its data dir is free.
   */
  private async stopServer(slot: Slot): Promise<void> {
    const id = slot.server.id;
    const pid = slot.pid;
    if (pid === null) return;
    slot.exitRequested = true;
    const child = slot.child;
    if (child !== null) {
      const exited = slot.exited;
      child.kill('SIGTERM');
      if (!(await within(exited, STOP_TIMEOUT_MS))) {
        console.log(`zook cluster: server ${id} did not stop within ${STOP_TIMEOUT_MS} ms: SIGKILL`);
        child.kill('SIGKILL');
        await exited;
      }
      return;
    }
    signalPid(pid, 'SIGTERM');
    if (!(await this.released(slot, pid, STOP_TIMEOUT_MS))) {
      console.log(`zook cluster: server ${id} (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS} ms: SIGKILL`);
      signalPid(pid, 'SIGKILL');
      if (!(await this.released(slot, pid, STOP_TIMEOUT_MS))) {
        slot.exitRequested = false;
        throw new Error(`server ${id} (pid ${pid}) still holds its data dir ${slot.dataDir} ${STOP_TIMEOUT_MS} ms after SIGKILL`);
      }
    }
    if (slot.pid === pid) slot.pid = null;
    slot.exitRequested = false;
    this.writePids();
  }

  /** Waits until `pid` no longer holds the slot's data dir (the kernel frees the lock when a process dies). */
  private async released(slot: Slot, pid: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const held = await dataDirHolder(slot.dataDir);
      if (held === null || (held.holder !== null && held.holder.pid !== pid)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(RELEASE_POLL_MS);
    }
  }

  /**
   * A server that is down here but holds its data dir was started by hand: manage it
   * again. Called with what dataDirHolder said; true when it adopted one.
   */
  private adopt(slot: Slot, held: Awaited<ReturnType<typeof dataDirHolder>>): boolean {
    if (held === null || held.holder === null || slot.pid !== null || this.stopping) return false;
    const holder = held.holder;
    const id = slot.server.id;
    // Our own child of another slot (a misconfigured ensemble file sharing a dir) is not a stranger to adopt.
    if (this.slots.some((s) => s.pid === holder.pid)) return false;
    if (holder.owner !== `zook server ${id}`) {
      if (slot.reportedForeign !== holder.pid) {
        slot.reportedForeign = holder.pid;
        console.log(`zook cluster: server ${id}'s data dir ${slot.dataDir} is held by ${describeHolder(holder)}: not server ${id}, left alone`);
      }
      return false;
    }
    slot.pid = holder.pid;
    slot.child = null;
    slot.listening = true;
    console.log(
      `zook cluster: server ${id} (pid ${holder.pid}) is back (started outside zook cluster): managed again (in pids.json, stopped by Ctrl-C); its output goes to the terminal that started it, not here`,
    );
    this.writePids();
    return true;
  }

  /** Every ADOPT_POLL_MS: adopts servers started by hand, and notices when one of those exits. */
  private async watchDataDirs(): Promise<void> {
    while (!this.stopping) {
      for (const slot of this.slots) {
        if (this.stopping) return;
        if (slot.busy !== null || slot.child !== null) continue;
        const pid = slot.pid;
        let held: Awaited<ReturnType<typeof dataDirHolder>>;
        try {
          held = await dataDirHolder(slot.dataDir);
        } catch {
          continue; // the dir vanished or is unreadable: ask again next round
        }
        // A command that began meanwhile decides for itself.
        if (this.stopping || slot.busy !== null || slot.child !== null || slot.pid !== pid) continue;
        if (pid === null) {
          this.adopt(slot, held);
        } else if (held === null || (held.holder !== null && held.holder.pid !== pid)) {
          slot.pid = null;
          this.writePids();
          this.reportGone(slot, `server ${slot.server.id} (pid ${pid}, started outside zook cluster) exited`);
        }
      }
      await sleep(ADOPT_POLL_MS);
    }
  }

  /** Every LEADER_POLL_MS: reads each server's /status and prints who leads when that changes. */
  private async watchLeader(): Promise<void> {
    let first = true;
    let noLeaderSince: number = Date.now();
    let saidNoLeader = false;
    while (!this.stopping) {
      const statuses = await Promise.all(this.slots.map((s) => fetchStatus(s.server.host, s.server.clientPort)));
      if (this.stopping) return;
      let best: { id: number; term: number } | null = null;
      for (const s of statuses) {
        if (s === null || (s.role !== 'leader' && s.role !== 'standalone')) continue;
        if (best === null || s.term > best.term) best = { id: s.leader > 0 ? s.leader : s.serverId, term: s.term };
      }
      const shown = this.shownLeader;
      if (best !== null) {
        // An old leader that has not heard of the new term yet is not news.
        if (shown === null || best.term > shown.term || (best.term === shown.term && best.id !== shown.id)) {
          console.log(first ? `zook cluster: leader is server ${best.id} (term ${best.term})` : `zook cluster: leader is now server ${best.id} (term ${best.term})`);
          first = false;
          this.shownLeader = best;
        }
        if (shown === null || best.term >= shown.term) {
          noLeaderSince = Date.now();
          saidNoLeader = false;
        }
      } else {
        const patienceMs = first ? LEADER_TIMEOUT_MS : NO_LEADER_REPORT_MS;
        if (!saidNoLeader && Date.now() - noLeaderSince >= patienceMs) {
          console.log(`zook cluster: no leader ${first ? 'after' : 'for'} ${patienceMs} ms (is a majority running?)`);
          saidNoLeader = true;
          this.shownLeader = null;
        }
      }
      await sleep(LEADER_POLL_MS);
    }
  }

  /** The commands of `zook cluster restart|stop|start|status` and of stdin. Logs what it did here too. */
  private async perform(request: ControlRequest, from: string): Promise<ControlReply> {
    const reply = await this.act(request);
    if (request.command !== 'status') {
      const what = `${request.command} ${request.id} (from ${from})`;
      console.log(reply.ok ? `zook cluster: ${reply.message}` : `zook cluster: ${what} refused: ${reply.message}`);
    }
    return reply;
  }

  private async act(request: ControlRequest): Promise<ControlReply> {
    if (this.stopping) return { ok: false, message: 'the cluster is stopping' };
    if (request.command === 'status') return { ok: true, message: this.statusText() };
    const id = request.id;
    const slot = this.slots.find((s) => s.server.id === id);
    if (slot === undefined) return { ok: false, message: `no server ${id}: this cluster has servers ${this.slots.map((s) => s.server.id).join(', ')}` };
    if (slot.busy !== null) return { ok: false, message: `server ${id} is busy: a ${slot.busy} is under way` };
    slot.busy = request.command;
    try {
      // One started by hand that the watch has not found yet is running too.
      if (slot.pid === null) this.adopt(slot, await dataDirHolder(slot.dataDir));
      const pid = slot.pid;
      const byHand = slot.child === null ? ', started outside zook cluster' : '';
      switch (request.command) {
        case 'stop':
          if (pid === null) return { ok: false, message: `server ${id} is not running` };
          console.log(`zook cluster: stopping server ${id} (pid ${pid}${byHand})`);
          await this.stopServer(slot);
          return { ok: true, message: `server ${id} (pid ${pid}) stopped; start it again with: zook cluster start ${id} --data-dir ${this.dir}` };
        case 'start': {
          if (pid !== null) return { ok: false, message: `server ${id} already runs (pid ${pid}${byHand})` };
          return await this.startAndWait(slot, (p) => `server ${id} started: pid ${p}, listening`);
        }
        case 'restart': {
          if (pid !== null) {
            console.log(`zook cluster: restarting server ${id}: stopping pid ${pid}${byHand}`);
            await this.stopServer(slot);
          } else console.log(`zook cluster: restarting server ${id}: it was not running, starting it`);
          return await this.startAndWait(slot, (p) => (pid === null ? `server ${id} restarted: pid ${p} (it was not running), listening` : `server ${id} restarted: pid ${p} (was pid ${pid}), listening`));
        }
      }
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    } finally {
      slot.busy = null;
    }
  }

  private async startAndWait(slot: Slot, success: (pid: number) => string): Promise<ControlReply> {
    const id = slot.server.id;
    const outcome = this.spawnServer(slot);
    const pid = slot.pid;
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([outcome, new Promise<null>((r) => (timer = setTimeout(() => r(null), LISTEN_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (result === null) return { ok: false, message: `server ${id} (pid ${pid}) started but did not say it listens within ${LISTEN_TIMEOUT_MS} ms (see its output); it was left running` };
    if (!result.listening) return { ok: false, message: `server ${id}${pid === null ? '' : ` (pid ${pid})`} ${result.why}` };
    return { ok: true, message: success(pid!) };
  }

  private statusText(): string {
    const leader = this.shownLeader === null ? 'no leader seen' : `leader server ${this.shownLeader.id} (term ${this.shownLeader.term})`;
    const lines = [`zook cluster on ${this.dir}: ${this.running().length} of ${this.slots.length} servers running, ${leader}`];
    for (const s of this.slots) {
      const state =
        s.pid === null ? 'not running' : s.child !== null ? 'running (started by zook cluster)' : 'running (started outside zook cluster: its output is not shown here)';
      lines.push(`  server ${s.server.id}  pid ${s.pid ?? '-'}  ${state}${s.busy === null ? '' : `, ${s.busy} under way`}`);
    }
    return lines.join('\n');
  }

  /** Commands typed on stdin, when it is a terminal or a pipe (not /dev/null, not closed). */
  private readStdin(): boolean {
    let stat;
    try {
      stat = fstatSync(0);
    } catch {
      return false; // closed
    }
    if (!(isatty(0) || stat.isFIFO() || stat.isSocket())) return false;
    process.stdin.on('error', () => {}); // a broken stdin ends the commands, not the cluster
    // terminal: false keeps the terminal's own line editing and its Ctrl-C (SIGINT to us and the servers).
    createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity }).on('line', (line) => void this.onStdinLine(line));
    if (isatty(0)) {
      // A process that reads its terminal from the background is stopped (SIGTTIN):
      // `zook cluster &` must keep running, so the terminal is read only while in front.
      const follow = (): void => {
        if (inForeground()) process.stdin.resume();
        else process.stdin.pause();
      };
      follow();
      setInterval(follow, FOREGROUND_POLL_MS).unref();
    }
    return true;
  }

  private async onStdinLine(line: string): Promise<void> {
    const words = line.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) return;
    const [word, arg] = words;
    if (word === 'help' && words.length === 1) console.log(STDIN_HELP);
    else if (word === 'status' && words.length === 1) console.log((await this.perform({ command: 'status' }, 'standard input')).message);
    else if (isServerCommand(word) && words.length === 2 && /^\d+$/.test(arg)) await this.perform({ command: word, id: Number(arg) }, 'standard input');
    else console.log(`zook cluster: unknown command "${line.trim().slice(0, 80)}": type restart <n>, stop <n>, start <n>, status or help`);
  }

  private async stopAll(signal: string, exitCode = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const alive = this.running();
    const byHand = alive.filter((s) => s.child === null).length;
    console.log(`zook cluster: ${signal}: stopping ${alive.length} servers${byHand === 0 ? '' : ` (${byHand} started outside zook cluster)`}`);
    const failures = await Promise.all(alive.map((slot) => this.stopServer(slot).then(() => null, (error: unknown) => (error instanceof Error ? error.message : String(error)))));
    for (const failure of failures) if (failure !== null) console.error(`zook cluster: ${failure}`);
    await this.control?.close();
    rmSync(this.pidsPath, { force: true });
    await this.runLock.release();
    console.log('zook cluster: all servers stopped');
    process.exit(exitCode);
  }
}

/** `zook cluster restart|stop|start <n>` and `zook cluster status`: asks the run on --data-dir. */
async function controlCommand(command: 'restart' | 'stop' | 'start' | 'status', argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string', default: './zook-cluster' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    console.log(CLUSTER_USAGE);
    return;
  }
  const dir = resolve(values['data-dir']!);
  let request: ControlRequest;
  if (command === 'status') {
    if (positionals.length > 0) throw new Error(`cluster: status takes no server id, got "${positionals.join(' ')}"`);
    request = { command };
  } else {
    if (positionals.length !== 1) throw new Error(`cluster: ${command} takes one server id: zook cluster ${command} <id> [--data-dir <dir>]`);
    const id = Number(positionals[0]);
    if (!Number.isInteger(id) || id < 1) throw new Error(`cluster: ${command}: the server id must be an integer >= 1, got "${positionals[0]}"`);
    request = { command, id };
  }
  let reply: ControlReply;
  try {
    reply = await sendControl(dir, request, CONTROL_REPLY_TIMEOUT_MS);
  } catch (error) {
    if (!(error instanceof ControlUnreachable)) throw new Error(`cluster: ${error instanceof Error ? error.message : String(error)}`);
    if (error.code === 'EACCES') throw new Error(`cluster: not allowed to use ${error.path} (EACCES): the cluster on ${dir} belongs to another user`);
    const held = existsSync(dir) ? await dataDirHolder(dir) : null;
    if (held === null) throw new Error(`cluster: no zook cluster runs on ${dir} (start one with: npx zook cluster --data-dir ${dir})`);
    const who = held.holder === null ? 'another live process' : describeHolder(held.holder);
    throw new Error(`cluster: ${dir} is held by ${who}, but nothing answers on its control socket ${error.path} (${error.message}): is it still starting? Try again once it printed its connect strings`);
  }
  if (!reply.ok) throw new Error(`cluster: ${reply.message}`);
  console.log(reply.message);
}
