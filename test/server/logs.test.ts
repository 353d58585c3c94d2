// The server's log, read from real server processes: JSON lines when stdout is not a
// terminal (here: a pipe), each with time, level, serverId and component; what
// recovery found after a restart; snapshots; closes of misbehaving clients; levels;
// and no secret in any line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { JuteWriter } from '../../src/zookeeper/jute.js';
import { OpCode } from '../../src/zookeeper/records.js';
import { logLines as parseLogLines, type LogLine } from '../support/log-lines.js';
import { until } from '../support/until.js';
import { RawZkClient } from '../zookeeper/support/raw-zk.js';
import { distinctFreePorts } from './support/free-port.js';
import { RawClient, create } from './support/raw-client.js';
import { type ServerProcess, newDataDir, startServerProcess } from './support/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every stdout line parsed as JSON (throws on a line that is not). */
const logLines = (output: string): LogLine[] => parseLogLines(output, { strict: true });

/** The digest in superDigest: a credential in its own right, never to be logged. */
const SUPER_DIGEST = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';
const DIGEST_PASSWORD = 'hunter2-do-not-log';

describe('a standalone server process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zook-logs-'));
  const config = join(dir, 'zook.json');
  const dataDir = newDataDir();
  let first: ServerProcess;
  let second: ServerProcess;
  let zxidBeforeRestart = 0;

  beforeAll(async () => {
    writeFileSync(config, JSON.stringify({ snapshotEveryEntries: 20, superDigest: SUPER_DIGEST }));
    first = await startServerProcess({ dataDir, extraArgs: ['--config', config] });
    const { client } = await RawClient.session(first.url);
    // 30 znodes: one snapshot after 20 entries, the rest only in the log.
    for (let i = 0; i < 30; i++) expect((await client.call(create(`/n${i}`, 'secret-data-value'))).error).toBe(0);
    await until('a snapshot line', () => (logLines(first.output()).some((l) => l.msg.includes('written')) ? true : undefined));
    // A digest login: its password must not reach the log.
    const { client: zk } = await RawZkClient.session(first.zkPort);
    const auth = (w: JuteWriter): void => void w.int(0).ustring('digest').buffer(Buffer.from(`user:${DIGEST_PASSWORD}`));
    await zk.request(OpCode.auth, auth, -4);
    await zk.close();
    const status = (await (await fetch(`http://127.0.0.1:${first.port}/status`)).json()) as { appliedIndex: number };
    zxidBeforeRestart = status.appliedIndex;
    client.close();
    await first.kill9();
    second = await startServerProcess({ dataDir, extraArgs: ['--config', config] });
  });

  afterAll(async () => {
    await first?.kill9();
    await second?.stop();
    second?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('writes one JSON object per line to stdout, each with time, level, serverId and component', () => {
    const lines = logLines(first.output());
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line.level);
      expect(line.serverId).toBe(1);
      expect(typeof line.component).toBe('string');
    }
  });

  test('the start line keeps its text in msg: "listening on ws://host:port (ZooKeeper clients: host:port)"', () => {
    const start = logLines(first.output()).find((l) => l.msg.includes('listening on'));
    expect(start?.msg).toMatch(/^zook: server 1 listening on ws:\/\/127\.0\.0\.1:(\d+) \(ZooKeeper clients: 127\.0\.0\.1:(\d+)\)/);
    expect(start).toMatchObject({ level: 'info', component: 'server', port: first.port, zkPort: first.zkPort });
  });

  test('a snapshot logs its start, and its end with index, size in bytes and duration', () => {
    const lines = logLines(first.output()).filter((l) => l.component === 'snapshot');
    const started = lines.find((l) => l.msg.includes('started'));
    const written = lines.find((l) => l.msg.includes('written'));
    expect(started?.index).toBeGreaterThan(0);
    expect(written).toMatchObject({ level: 'info', index: started?.index });
    expect(written?.bytes).toBeGreaterThan(0);
    expect(typeof written?.durationMs).toBe('number');
  });

  test('after a kill -9 restart, recovery logs the snapshot it loaded, then the znodes and zxid after replaying the log', () => {
    const lines = logLines(second.output()).filter((l) => l.component === 'recovery');
    const loaded = lines.find((l) => l.msg.startsWith('loaded snapshot'));
    const recovered = lines.find((l) => l.msg.startsWith('recovered:'));
    expect(loaded?.snapshotIndex).toBeGreaterThan(0);
    // 4 znodes of a new tree (/, /zookeeper, /zookeeper/config, /zookeeper/quota) + 30 created.
    expect(recovered).toMatchObject({ znodes: 34, snapshotIndex: loaded?.snapshotIndex });
    // The restart's leader adds one no-op entry of its new term on top of what was there.
    expect(recovered?.zxid).toBeGreaterThanOrEqual(zxidBeforeRestart);
    expect(recovered?.entriesReplayed).toBe(zxidBeforeRestart - (loaded?.snapshotIndex as number));
    expect(typeof recovered?.durationMs).toBe('number');
    // It comes before the start line, which says the same numbers.
    const all = logLines(second.output());
    expect(all.findIndex((l) => l.msg.startsWith('recovered:'))).toBeLessThan(all.findIndex((l) => l.msg.includes('listening on')));
  });

  test('a ZooKeeper-protocol connection closed for a bad packet is logged with the reason and the client address', async () => {
    const socket = connect(second.zkPort, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xfb])); // packet length -5
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const closed = await until('the close line', () => logLines(second.output()).find((l) => l.component === 'zk-door' && l.msg.includes('packet length -5')));
    expect(closed).toMatchObject({ level: 'warn', reason: 'framing' });
    expect(closed.msg).toMatch(/^closed ZooKeeper-protocol connection from 127\.0\.0\.1:\d+: packet length -5 outside/);
  });

  test('a WebSocket connection closed for a text frame is logged with the reason and the client address', async () => {
    const ws = new WebSocket(second.url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('not a FlatBuffers frame');
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const closed = await until('the close line', () => logLines(second.output()).find((l) => l.component === 'ws' && l.reason === 'protocol-error'));
    expect(closed.level).toBe('warn');
    expect(closed.msg).toMatch(/^closed WebSocket connection from [\d.:a-f]+: text frames are not part of the protocol/);
  });

  test('no line holds the superDigest, a digest password or znode data', () => {
    const output = first.output() + second.output();
    expect(output).toContain('"superDigest":"[redacted]"');
    expect(output).not.toContain('D/InIHSb7yEEbrWz8b9l71RjZJU=');
    expect(output).not.toContain(DIGEST_PASSWORD);
    expect(output).not.toContain('secret-data-value');
  });
});

test('--log-level warn leaves out every info line, the start line included', async () => {
  const port = distinctFreePorts();
  const [httpPort, zkPort] = [await port(), await port()];
  const dataDir = newDataDir();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server', '--port', String(httpPort), '--zk-port', String(zkPort), '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until('the server to answer /health', async () => ((await fetch(`http://127.0.0.1:${httpPort}/health`)).ok ? true : undefined), 30_000);
    // A bad packet: a warning, which the level lets through.
    const socket = connect(zkPort, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xfb]));
    await until('the warning', () => (output.includes('packet length -5') ? true : undefined));
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
  const lines = logLines(output);
  expect(lines.map((l) => l.level)).toEqual(['warn']);
});
