// ZooKeeper's own clients against a zook server whose ZooKeeper-protocol port
// speaks TLS (started with --tls-cert/--tls-key; certificates made by openssl for
// this run): kazoo with use_ssl and a CA, and zkCli.sh (the Java client) with the
// settings ZooKeeper documents for its secureClientPort.
//
// Needs Debian's zookeeper and python3-kazoo: `bash test/zookeeper/external/install-deps.sh`
// (skipped with a warning without them, failing on CI).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../server/support/server-process.js';
import { TestPki, type TestCa } from '../../support/tls-certs.js';
import { ZKCLI, cliLines, describeWith, python } from './support.js';

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
let server: ServerProcess | undefined;

async function tlsServer(): Promise<ServerProcess> {
  if (server !== undefined) return server;
  pki = new TestPki();
  ca = pki.ca('external-ca');
  otherCa = pki.ca('external-other-ca');
  const cert = pki.issue(ca, 'zook-server');
  server = await startServerProcess({ extraArgs: ['--tls-cert', cert.certFile, '--tls-key', cert.keyFile] });
  return server;
}

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  pki?.cleanup();
});

/**
 * zkCli.sh with ZooKeeper's client TLS settings: the Netty socket (the NIO one has
 * no TLS), zookeeper.client.secure, and the CA as a PEM truststore. Debian's
 * zookeeper.jar does not list netty-resolver and netty-codec, which the Netty
 * socket needs, so the class path is given whole.
 */
function zkCliOverTls(port: number, trustStore: string | null, commands: readonly string[]): Promise<string[]> {
  const flags = [
    '-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/netty-resolver.jar:/usr/share/java/netty-codec.jar',
    '-Dzookeeper.client.secure=true',
    '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    ...(trustStore === null ? [] : [`-Dzookeeper.ssl.trustStore.location=${trustStore}`, '-Dzookeeper.ssl.trustStore.type=PEM']),
    '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
  ];
  const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', ZKCLI, '-server', `127.0.0.1:${port}`], {
    env: { ...process.env, CLIENT_JVMFLAGS: flags.join(' ') },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdin!.end(`${[...commands, 'quit'].join('\n')}\n`);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zkCli.sh over TLS still running after 60 s:\n${out}`));
    }, 60_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(cliLines(out));
    });
  });
}

describeWith(['kazoo'], 'kazoo over TLS', () => {
  beforeAll(tlsServer, 60_000);

  test('kazoo with use_ssl and the CA creates and reads a node; trusting another CA it never connects', async () => {
    const s = await tlsServer();
    const r = await python('tls.py', [`127.0.0.1:${s.zkPort}`, ca.certFile, otherCa.certFile, '/kazoo-over-tls']);
    expect(r).toEqual({ created: '/kazoo-over-tls', data: 'over tls', untrusted_start: 'KazooTimeoutError' });
  });
});

describeWith(['zkCli.sh'], 'zkCli.sh over TLS', () => {
  beforeAll(tlsServer, 60_000);

  test('zkCli.sh with zookeeper.client.secure, the Netty socket and the CA as truststore creates and reads a node', async () => {
    const s = await tlsServer();
    const lines = await zkCliOverTls(s.zkPort, ca.certFile, ['create /zkcli-over-tls java', 'get /zkcli-over-tls']);
    expect(lines).toContain('Created /zkcli-over-tls');
    expect(lines).toContain('java');
  });

  test('zkCli.sh without the CA does not connect', async () => {
    const s = await tlsServer();
    const lines = await zkCliOverTls(s.zkPort, null, ['get /zkcli-over-tls']);
    expect(lines.join('\n')).toContain('ConnectionLoss');
    expect(lines).not.toContain('java');
  });
});
