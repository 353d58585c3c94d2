// Three `zook server` processes (the built dist/) of one ensemble with TLS
// everywhere: the ensemble file carries tlsCaFile, each server gets its own
// certificate with --tls-cert/--tls-key. Peers prove themselves with certificates
// the CA signed (mutual TLS) and with the shared secret; clients come in over
// wss:// and see a write on every server. A stranger holding a certificate from
// another CA is refused on the peer port and counted in /metrics.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../src/client/index.js';
import { httpRequest } from '../../src/util/http-request.js';
import type { NodeStatus } from '../../src/server/node-status.js';
import { distinctFreePorts } from '../server/support/free-port.js';
import { TestPki, type TestCa, type TestCert } from '../support/tls-certs.js';
import { until } from '../support/until.js';
import { FAST_SETTINGS } from './support/cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const IDS = [1, 2, 3];

interface Server {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output: string;
}

let root: string;
let configFile: string;
let pki: TestPki;
let ca: TestCa;
let caPem: Buffer;
let otherCa: TestCa;
const ports = new Map<number, { client: number; zk: number; peer: number }>();
const servers = new Map<number, Server>();
const clients: ZookClient[] = [];

async function start(id: number, cert: TestCert, config: string): Promise<Server> {
  const child = spawn(process.execPath, [MAIN, 'server', '--id', String(id), '--config', config, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: Server = { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))), output: '' };
  child.stdout!.on('data', (d: Buffer) => (server.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (server.output += d.toString()));
  servers.set(id, server);
  await Promise.race([
    until(`server ${id} listening on wss://`, () => (/listening on wss:\/\//.test(server.output) ? true : undefined), 30_000),
    server.exited.then((code) => {
      throw new Error(`server ${id} exited with ${code} before listening:\n${server.output}`);
    }),
  ]);
  return server;
}

async function status(id: number): Promise<NodeStatus | undefined> {
  try {
    const res = await httpRequest(`https://127.0.0.1:${ports.get(id)!.client}/status`, { timeoutMs: 1500, ca: caPem });
    return res.status === 200 ? (JSON.parse(res.text) as NodeStatus) : undefined;
  } catch {
    return undefined;
  }
}

async function authFailures(id: number): Promise<number> {
  const res = await httpRequest(`https://127.0.0.1:${ports.get(id)!.client}/metrics`, { timeoutMs: 5000, ca: caPem });
  const line = res.text.split('\n').find((l) => l.startsWith('zook_peer_auth_failures_total '));
  return Number(line?.split(' ')[1] ?? NaN);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'zook-tls-ensemble-'));
  pki = new TestPki();
  ca = pki.ca('ensemble-ca');
  caPem = readFileSync(ca.certFile);
  otherCa = pki.ca('stranger-ca');
  const port = distinctFreePorts();
  for (const id of IDS) ports.set(id, { client: await port(), zk: await port(), peer: await port() });
  const config = (configFile = join(root, 'ensemble.json'));
  writeFileSync(
    config,
    JSON.stringify({
      clusterId: 'tls-ensemble',
      secret: 'tls-ensemble-secret-0123456789',
      servers: IDS.map((id) => ({ id, host: '127.0.0.1', clientPort: ports.get(id)!.client, zkPort: ports.get(id)!.zk, peerPort: ports.get(id)!.peer, dataDir: join(root, `data-${id}`) })),
      ...FAST_SETTINGS,
      tlsCaFile: ca.certFile,
    }),
  );
  await Promise.all(IDS.map((id) => start(id, pki.issue(ca, `server-${id}`), config)));
});

afterAll(async () => {
  for (const zk of clients) await zk.close().catch(() => {});
  for (const s of servers.values()) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await s.exited;
  }
  rmSync(root, { recursive: true, force: true });
  pki?.cleanup();
});

test('three servers with mutual-TLS peer links elect a leader and replicate a write made over wss:// to every server', async () => {
  const leader = await until('a leader all three servers name', async () => {
    const all = await Promise.all(IDS.map(status));
    const lead = all.find((s) => s?.role === 'leader');
    return lead !== undefined && all.every((s) => s?.hasLeader === true && s.leader === lead.serverId) ? lead.serverId : undefined;
  }, 30_000);
  // Certificates and secret agree: no peer handshake was refused on the way up.
  for (const id of IDS) expect(await authFailures(id)).toBe(0);

  const url = (id: number): string => `wss://127.0.0.1:${ports.get(id)!.client}`;
  const writer = await connect(url(leader), { tlsCaFile: ca.certFile, connectTimeoutMs: 10_000 });
  clients.push(writer);
  await writer.create('/replicated-over-tls', 'everywhere');
  for (const id of IDS) {
    const reader = await connect(url(id), { tlsCaFile: ca.certFile, connectTimeoutMs: 10_000 });
    clients.push(reader);
    // A linearizable read confirms with the leader first: the follower has applied the write.
    const { data } = await reader.getData('/replicated-over-tls', { linearizable: true });
    expect(new TextDecoder().decode(data)).toBe('everywhere');
  }
});

test('a stranger presenting a certificate another CA signed is refused on the peer port and counted in zook_peer_auth_failures_total', async () => {
  const target = 3;
  const before = await authFailures(target);
  const stranger = pki.issue(otherCa, 'stranger');
  const received = await new Promise<number>((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: ports.get(target)!.peer,
      ca: caPem,
      cert: readFileSync(stranger.certFile),
      key: readFileSync(stranger.keyFile),
    });
    let bytes = 0;
    socket.on('data', (c: Buffer) => (bytes += c.length));
    socket.on('error', () => {});
    socket.once('close', () => resolve(bytes));
  });
  // Not even the Challenge (the first thing an accepted peer hears).
  expect(received).toBe(0);
  await until('the refusal counted', async () => ((await authFailures(target)) > before ? true : undefined), 10_000);
  // The ensemble goes on.
  const st = await status(target);
  expect(st?.hasLeader).toBe(true);
});

test('zook admin status talks https to a TLS ensemble, verifying the servers with the ensemble file\'s tlsCaFile', async () => {
  const child = spawn(process.execPath, [MAIN, 'admin', 'status', '--config', configFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, out).toBe(0);
  const reports = JSON.parse(out) as { id: number; reachable: boolean }[];
  expect(reports.map((r) => [r.id, r.reachable])).toEqual(IDS.map((id) => [id, true]));
});

test("the web console's GET /ensemble over https has every member's /status, which the server fetched over https verifying them with the ensemble CA", async () => {
  const body = await until('every member in /ensemble', async () => {
    const res = await httpRequest(`https://127.0.0.1:${ports.get(2)!.client}/ensemble`, { timeoutMs: 5000, ca: caPem });
    const parsed = JSON.parse(res.text) as { secure: boolean; members: { id: number; url: string; status: NodeStatus | null; error: string | null }[] };
    return parsed.members.every((m) => m.status !== null) ? parsed : undefined;
  }, 30_000);
  expect(body.secure).toBe(true);
  expect(body.members.map((m) => [m.id, m.url, m.status?.serverId])).toEqual(IDS.map((id) => [id, `https://127.0.0.1:${ports.get(id)!.client}`, id]));
  expect(body.members.filter((m) => m.status?.role === 'leader')).toHaveLength(1);
});
