// One server per data dir and per port, with real `zook server` processes: a second
// server on a held data dir, or on a port another server listens on, refuses to
// start (exit code 1, a message saying why) and the first one keeps serving; a
// server killed with SIGKILL leaves nothing that blocks its restart.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../src/client/index.js';
import { freePort } from '../../src/util/free-port.js';
import { newDataDir, startServerProcess, type ServerProcess } from './support/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

const servers: ServerProcess[] = [];
const children: ChildProcess[] = [];
const clients: ZookClient[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const s of servers.splice(0)) await s.kill9();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = newDataDir();
  dirs.push(dir);
  return dir;
}

async function started(options: Parameters<typeof startServerProcess>[0]): Promise<ServerProcess> {
  const server = await startServerProcess(options);
  servers.push(server);
  return server;
}

/** Runs `zook <args>` to its exit (a server that is expected to refuse to start); one that starts listening anyway is killed at once. */
async function runToExit(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('listening on')) child.kill('SIGKILL');
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

async function writeAndRead(server: ServerProcess, path: string, value: string): Promise<string> {
  const client = await connect(`127.0.0.1:${server.port}`);
  clients.push(client);
  await client.create(path, value);
  return Buffer.from((await client.getData(path)).data).toString('utf8');
}

function walVerify(dir: string): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'wal', 'verify', dir], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout + r.stderr };
}

describe('one server per data dir', () => {
  test('a second server on a held data dir exits 1 naming the first one’s pid; the first keeps serving and its log verifies clean', async () => {
    const dir = dataDir();
    const first = await started({ dataDir: dir });
    const second = await runToExit(['server', '--port', '0', '--zk-port', '0', '--data-dir', dir]);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`is in use by zook server 1 (pid ${first.child.pid}, ws://127.0.0.1:${first.port}, ZooKeeper port ${first.zkPort}`);
    expect(second.output).not.toContain('listening on');
    expect(await writeAndRead(first, '/after-refusal', 'still here')).toBe('still here');
    expect(await first.stop()).toBe(0);
    const verify = walVerify(dir);
    expect(verify.stdout).toContain('ok: the log would start cleanly');
    expect(verify.status).toBe(0);
  }, 90_000);

  test('after kill -9 of the holder, a server on the same data dir starts at once and has the data', async () => {
    const dir = dataDir();
    const first = await started({ dataDir: dir });
    expect(await writeAndRead(first, '/before-kill', 'kept')).toBe('kept');
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await first.kill9();
    const again = await started({ dataDir: dir });
    const client = await connect(`127.0.0.1:${again.port}`);
    clients.push(client);
    expect(Buffer.from((await client.getData('/before-kill')).data).toString('utf8')).toBe('kept');
  }, 90_000);

  test('zook wal repair refuses a data dir a live server holds; zook wal verify reads it and says so', async () => {
    const dir = dataDir();
    const server = await started({ dataDir: dir });
    const repair = await runToExit(['wal', 'repair', dir, '--truncate-after', '0']);
    expect(repair.code).toBe(1);
    expect(repair.output).toContain(`is in use by zook server 1 (pid ${server.child.pid}`);
    const verify = walVerify(dir);
    expect(verify.stdout).toContain(`note: a live process holds ${dir} (pid ${server.child.pid}, zook server 1)`);
    expect(await writeAndRead(server, '/after-repair-refused', 'intact')).toBe('intact');
  }, 90_000);
});

describe('one server per port', () => {
  test('a second server on the first one’s WebSocket port (another data dir) exits 1; the first keeps serving', async () => {
    // A port chosen by the test, not by listen(0): Linux never shares a port it picked itself, SO_REUSEPORT or not.
    const first = await started({ dataDir: dataDir(), port: await freePort() });
    const second = await runToExit(['server', '--port', String(first.port), '--zk-port', '0', '--data-dir', dataDir()]);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`cannot listen for WebSocket clients on 127.0.0.1:${first.port}: the port is in use`);
    expect(await writeAndRead(first, '/ws-port', 'first')).toBe('first');
  }, 90_000);

  test('a second server on the first one’s ZooKeeper port (another data dir) exits 1', async () => {
    const first = await started({ dataDir: dataDir(), zkPort: await freePort() });
    const second = await runToExit(['server', '--port', '0', '--zk-port', String(first.zkPort), '--data-dir', dataDir()]);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`cannot listen for ZooKeeper clients on 127.0.0.1:${first.zkPort}`);
    expect(second.output).toContain('EADDRINUSE');
    expect(await writeAndRead(first, '/zk-port', 'first')).toBe('first');
  }, 90_000);

  test('a second ensemble member on the first one’s peer port (another data dir) exits 1', async () => {
    const peerPort = await freePort();
    const ensembleFile = (dir: string, clientPort: number, zkPort: number): string => {
      const file = join(dir, 'ensemble.json');
      const servers = [{ id: 1, host: '127.0.0.1', clientPort, zkPort, peerPort, dataDir: join(dir, 'data') }];
      writeFileSync(file, JSON.stringify({ clusterId: 'ownership-test', secret: randomBytes(16).toString('hex'), servers }));
      return file;
    };
    const firstDir = dataDir();
    const first = await started({ dataDir: join(firstDir, 'data'), extraArgs: ['--config', ensembleFile(firstDir, await freePort(), await freePort()), '--id', '1'] });
    const secondDir = dataDir();
    const second = await runToExit(['server', '--config', ensembleFile(secondDir, await freePort(), await freePort()), '--id', '1']);
    expect(second.code).toBe(1);
    expect(second.output).toContain(`peer transport cannot listen on 127.0.0.1:${peerPort}`);
    expect(second.output).toContain('EADDRINUSE');
    expect(first.child.exitCode).toBeNull();
  }, 90_000);
});
