import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseAcl, permsToText } from '../../src/cli/acl-text.js';
import { complete } from '../../src/cli/shell-command.js';
import { splitWords } from '../../src/cli/shell.js';
import { connect } from '../../src/client/index.js';
import { type ServerProcess, useServerProcess } from '../server/support/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function shell(server: ServerProcess, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'shell', '--server', server.url, '-c', command], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const fixture = useServerProcess();

describe('zook shell -c', () => {
  let server: ServerProcess;
  beforeAll(() => {
    server = fixture.current;
  });

  test('create then get prints the data (the README walk-through)', async () => {
    expect(await shell(server, 'create /x hi')).toMatchObject({ code: 0, stdout: 'Created /x\n' });
    expect(await shell(server, 'get /x')).toMatchObject({ code: 0, stdout: 'hi\n' });
  });

  test('ls lists children and stat prints the Stat fields', async () => {
    await shell(server, 'create /dir');
    await shell(server, 'create /dir/a 1');
    expect((await shell(server, 'ls /dir')).stdout).toBe('[a]\n');
    const stat = await shell(server, 'stat /dir');
    expect(stat.stdout).toMatch(/^numChildren = 1$/m);
    expect(stat.stdout).toMatch(/^dataVersion = 0$/m);
  });

  test('an error prints one line and exits non-zero', async () => {
    const result = await shell(server, 'get /does-not-exist');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Error: NoNode for /does-not-exist');
  });

  test('a version mismatch on set is BadVersion', async () => {
    await shell(server, 'create /v a');
    const result = await shell(server, 'set -v 5 /v b');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/BadVersion/);
  });

  test('deleteall removes a subtree', async () => {
    await shell(server, 'create /tree');
    await shell(server, 'create /tree/a');
    await shell(server, 'create /tree/a/b');
    expect((await shell(server, 'deleteall /tree')).code).toBe(0);
    expect((await shell(server, 'stat /tree')).code).toBe(1);
  });

  test('an unknown command is a usage error', async () => {
    const result = await shell(server, 'frobnicate /');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

describe('shell parsing', () => {
  test('words split on spaces, quotes group them', () => {
    expect(splitWords(`create /a "hello world" 'x y'`)).toEqual(['create', '/a', 'hello world', 'x y']);
  });

  test('ACL text round-trips through zkCli\'s scheme:id:perms form', () => {
    expect(parseAcl('world:anyone:cdrwa,ip:10.0.0.0/8:r')).toEqual([
      { scheme: 'world', id: 'anyone', perms: 31 },
      { scheme: 'ip', id: '10.0.0.0/8', perms: 1 },
    ]);
    expect(parseAcl('digest:alice:abc=:rw')).toEqual([{ scheme: 'digest', id: 'alice:abc=', perms: 3 }]);
    expect(permsToText(31)).toBe('cdrwa');
    expect(() => parseAcl('world:anyone:z')).toThrow(/cdrwa/);
  });
});

describe('shell completion', () => {
  test('completes command names and paths from the server', async () => {
    const zk = await connect(fixture.current.url);
    await zk.create('/apps', '');
    await zk.create('/apps/alpha', '');
    await zk.create('/apps/beta', '');
    expect(await complete(zk, 'del')).toEqual([['delete', 'deleteall'], 'del']);
    expect(await complete(zk, 'get /apps/a')).toEqual([['/apps/alpha'], '/apps/a']);
    expect(await complete(zk, 'ls /ap')).toEqual([['/apps'], '/ap']);
    await zk.close();
  });
});
