// The control socket of a running `zook cluster` (src/cli/cluster-control.ts), in
// process: a request and its reply, owner-only permissions, bad requests, and a
// data dir too long for sun_path.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { connect } from 'node:net';
import { CONTROL_SOCKET_FILE, ControlUnreachable, controlSocketPath, listenControl, sendControl, type ControlRequest, type ControlServer } from '../../src/cli/cluster-control.js';

const dirs: string[] = [];
const servers: ControlServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zook-control-'));
  dirs.push(dir);
  return dir;
}

async function echo(dir: string): Promise<{ server: ControlServer; seen: ControlRequest[] }> {
  const seen: ControlRequest[] = [];
  const server = await listenControl(dir, async (request) => {
    seen.push(request);
    return { ok: true, message: `did ${JSON.stringify(request)}` };
  });
  servers.push(server);
  return { server, seen };
}

/** Sends one raw line and returns the raw reply. */
function raw(path: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ path }, () => socket.write(line));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('the cluster control socket', () => {
  test('a request reaches the handler and its reply comes back', async () => {
    const dir = tempDir();
    const { seen } = await echo(dir);
    const reply = await sendControl(dir, { command: 'restart', id: 2 }, 5000);
    expect(reply).toEqual({ ok: true, message: 'did {"command":"restart","id":2}' });
    expect(seen).toEqual([{ command: 'restart', id: 2 }]);
  });

  test('the socket is <dir>/control.sock with mode 0600 (only its owner may connect)', async () => {
    const dir = tempDir();
    const { server } = await echo(dir);
    expect(server.path).toBe(join(dir, CONTROL_SOCKET_FILE));
    const st = statSync(server.path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  test('a request that is not a known command gets an error reply, and the handler is not called', async () => {
    const dir = tempDir();
    const { server, seen } = await echo(dir);
    expect(JSON.parse(await raw(server.path, '{"command":"explode","id":1}\n'))).toEqual({ ok: false, message: 'unknown command "explode": restart, stop, start or status' });
    expect(JSON.parse(await raw(server.path, '{"command":"stop","id":0}\n'))).toEqual({ ok: false, message: 'stop needs a server id (an integer >= 1), got 0' });
    expect(JSON.parse(await raw(server.path, 'not json\n'))).toEqual({ ok: false, message: 'the request is not JSON' });
    expect(seen).toEqual([]);
  });

  test('no socket: sendControl throws ControlUnreachable; closing removes the socket file', async () => {
    const dir = tempDir();
    await expect(sendControl(dir, { command: 'status' }, 5000)).rejects.toBeInstanceOf(ControlUnreachable);
    const { server } = await echo(dir);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await expect(sendControl(dir, { command: 'status' }, 5000)).rejects.toBeInstanceOf(ControlUnreachable);
  });

  test('a data dir too long for sun_path gets its socket in a private /tmp/zook-<uid>/ directory, found by the client', async () => {
    const dir = join(tempDir(), 'a-rather-long-directory-name-'.repeat(5));
    mkdirSync(dir);
    expect(Buffer.byteLength(join(dir, CONTROL_SOCKET_FILE))).toBeGreaterThan(107);
    const { server } = await echo(dir);
    expect(server.path).toBe(controlSocketPath(dir));
    expect(server.path.startsWith(`/tmp/zook-${process.getuid!()}/`)).toBe(true);
    expect(statSync(join(server.path, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(server.path).mode & 0o777).toBe(0o600);
    expect(await sendControl(dir, { command: 'status' }, 5000)).toEqual({ ok: true, message: 'did {"command":"status"}' });
  });
});
