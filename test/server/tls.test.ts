// One real `zook server` process started with --tls-cert/--tls-key/--tls-ca, and
// certificates made by openssl for this run: the WebSocket port is wss:// (and its
// HTTP endpoints https://), the ZooKeeper-protocol port speaks TLS on the socket as
// ZooKeeper's secureClientPort does, and neither port serves plaintext.
import { spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { type Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect } from '../../src/client/index.js';
import { httpRequest } from '../../src/util/http-request.js';
import { JuteReader } from '../../src/zookeeper/jute.js';
import { OpCode } from '../../src/zookeeper/records.js';
import { RawZkClient, body } from '../zookeeper/support/raw-zk.js';
import { TestPki, type TestCa, type TestCert } from '../support/tls-certs.js';
import { type ServerProcess, startServerProcess } from './support/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
let cert: TestCert;
let server: ServerProcess;

beforeAll(async () => {
  pki = new TestPki();
  ca = pki.ca('zook-test-ca');
  otherCa = pki.ca('another-ca');
  cert = pki.issue(ca, 'zook-server');
  server = await startServerProcess({ extraArgs: ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--tls-ca', ca.certFile] });
});

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  pki?.cleanup();
});

/** Runs a command with stdin closed at once; resolves with its exit code and everything it printed. */
function run(command: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end();
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

function tlsSocket(port: number, caFile: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(caFile) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('the WebSocket port over TLS', () => {
  test('the server announces wss://', () => {
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(server.output()).toMatch(/listening on wss:\/\/127\.0\.0\.1:\d+ \(ZooKeeper clients: 127\.0\.0\.1:\d+ over TLS\)/);
  });

  test('the zook client connects over wss:// with the CA (tlsCaFile) and creates and reads a node', async () => {
    const zk = await connect(server.url, { tlsCaFile: ca.certFile, connectTimeoutMs: 10_000 });
    try {
      await zk.create('/over-wss', 'sealed');
      expect(new TextDecoder().decode((await zk.getData('/over-wss')).data)).toBe('sealed');
    } finally {
      await zk.close();
    }
  });

  test('the CA can be given as bytes (ca) too', async () => {
    const zk = await connect(server.url, { ca: readFileSync(ca.certFile), connectTimeoutMs: 10_000 });
    try {
      expect(await zk.exists('/over-wss')).not.toBeNull();
    } finally {
      await zk.close();
    }
  });

  test('a client that does not trust the CA is refused: the certificate does not verify', async () => {
    await expect(connect(server.url, { connectTimeoutMs: 1500 })).rejects.toThrow(/certificate/);
  });

  test('a client trusting another CA is refused', async () => {
    await expect(connect(server.url, { tlsCaFile: otherCa.certFile, connectTimeoutMs: 1500 })).rejects.toThrow(/certificate/);
  });

  test('a plaintext ws:// client gets no session from the TLS port', async () => {
    await expect(connect(`ws://127.0.0.1:${server.port}`, { connectTimeoutMs: 1500 })).rejects.toThrow(/ConnectionLoss|no server/);
  });

  test('/health is served over https (verified with the CA); plain http gets no answer', async () => {
    const health = await httpRequest(`https://127.0.0.1:${server.port}/health`, { timeoutMs: 5000, ca: readFileSync(ca.certFile) });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', hasLeader: true });
    const plain = await new Promise<string>((resolve) => {
      const req = httpGet(`http://127.0.0.1:${server.port}/health`, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (error) => resolve(`error: ${error.message}`));
      req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    });
    expect(plain).toMatch(/^error: /);
  });

  test('zook shell --tls-ca connects to a wss:// server', async () => {
    const { code, output } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'shell', '--server', server.url, '--tls-ca', ca.certFile, '-c', 'get /over-wss']);
    expect(output).toContain('sealed');
    expect(code).toBe(0);
  });
});

describe('the ZooKeeper-protocol port over TLS', () => {
  test('a jute client over a TLS socket opens a session, creates and reads a node', async () => {
    const client = RawZkClient.over(await tlsSocket(server.zkPort, ca.certFile));
    try {
      const session = await client.handshake();
      expect(session.sessionId).not.toBe(0);
      expect((await client.request(OpCode.create, body.create('/over-zk-tls', 'jute'))).err).toBe(0);
      const reply = await client.request(OpCode.getData, body.pathWatch('/over-zk-tls', false));
      expect(reply.err).toBe(0);
      expect(Buffer.from(new JuteReader(reply.body).buffer() ?? []).toString()).toBe('jute');
    } finally {
      await client.close();
    }
  });

  test('openssl s_client completes a verified handshake with the ZooKeeper port', async () => {
    const { output } = await run('openssl', ['s_client', '-connect', `127.0.0.1:${server.zkPort}`, '-CAfile', ca.certFile, '-verify_return_error']);
    expect(output).toContain('Verify return code: 0 (ok)');
    expect(output).toMatch(/New, TLSv1\.[23], Cipher is/);
  });

  test('four-letter words are answered over TLS', async () => {
    const socket = await tlsSocket(server.zkPort, ca.certFile);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write('ruok');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Buffer.concat(chunks).toString()).toBe('imok');
  });

  test('a plaintext ZooKeeper client gets no session: the socket closes without a ConnectResponse', async () => {
    const client = await RawZkClient.open(server.zkPort);
    let answered = false;
    void client.handshake().then(() => (answered = true));
    await client.closed;
    expect(answered).toBe(false);
  });

  test('a plaintext four-letter word gets no answer', async () => {
    const socket = netConnect({ host: '127.0.0.1', port: server.zkPort });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.write('ruok');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Buffer.concat(chunks).toString()).not.toContain('imok');
  });
});

describe('start-up with a TLS mistake', () => {
  test('a missing key file stops the server with a message naming the file; nothing is served in plaintext', async () => {
    const missing = join(pki.dir, 'no-such.key');
    const { code, output } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server', '--port', '0', '--zk-port', '0', '--data-dir', join(pki.dir, 'data-missing'), '--tls-cert', cert.certFile, '--tls-key', missing]);
    expect(code).not.toBe(0);
    expect(output).toContain(`cannot read tlsKeyFile ${missing}`);
    expect(output).not.toContain('listening on');
  });

  test('--tls-cert without --tls-key stops the server', async () => {
    const { code, output } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'server', '--port', '0', '--zk-port', '0', '--data-dir', join(pki.dir, 'data-nokey'), '--tls-cert', cert.certFile]);
    expect(code).not.toBe(0);
    expect(output).toMatch(/tlsCertFile and tlsKeyFile go together/);
    expect(output).not.toContain('listening on');
  });
});
