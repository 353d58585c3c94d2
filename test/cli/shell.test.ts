import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseAcl, permsToText } from '../../src/cli/acl-text.js';
import { complete } from '../../src/cli/shell-command.js';
import { splitWords } from '../../src/cli/shell.js';
import { connect } from '../../src/client/index.js';
import { type ServerProcess, startServerProcess, useServerProcess } from '../server/support/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function shell(server: ServerProcess, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'shell', '--server', server.url, '-c', command], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A long-running `zook shell` with piped stdin (so: no prompt, events printed as plain lines). */
class RunningShell {
  private out = '';
  private readonly exited: Promise<number | null>;
  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }
  static start(server: ServerProcess): RunningShell {
    return new RunningShell(spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'shell', '--server', server.url], { cwd: ROOT }));
  }
  /** The shell on a pseudo-terminal, through util-linux script(1): what we type reaches it as keystrokes. */
  static startOnTerminal(server: ServerProcess): RunningShell {
    const command = `${process.execPath} --import tsx src/cli/main.ts shell --server ${server.url}`;
    return new RunningShell(spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT }));
  }
  get output(): string {
    return this.out;
  }
  type(text: string): void {
    this.child.stdin.write(text);
  }
  /** Types a command line; resolves once `until` shows up in the output (the command's answer). */
  async run(line: string, until: RegExp): Promise<void> {
    this.type(`${line}\n`);
    await this.waitFor(until);
  }
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.out)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${this.out}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  async quit(keys = 'quit\n'): Promise<number | null> {
    this.type(keys);
    this.child.stdin.end();
    return this.exited;
  }
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
    expect(result.stderr.trim()).toBe('Error: NoNode for /does-not-exist: the node does not exist');
  });

  test('a version mismatch on set is BadVersion', async () => {
    await shell(server, 'create /v a');
    const result = await shell(server, 'set -v 5 /v b');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Error: BadVersion for /v: expected version 5, the node is at version 0');
  });

  test('a bad path names the rule it breaks, after the error name', async () => {
    expect((await shell(server, 'get nope')).stderr.trim()).toBe("Error: BadArguments for nope: invalid path: a path must start with '/'");
    expect((await shell(server, 'create /a/')).stderr.trim()).toBe("Error: BadArguments for /a/: invalid path: a path must not end with '/'");
    expect((await shell(server, 'get /a//b')).stderr.trim()).toBe("Error: BadArguments for /a//b: invalid path: a path must not have an empty name ('//')");
    expect((await shell(server, 'get /a/..')).stderr).toMatch(/^Error: BadArguments for \/a\/\.\.: invalid path: '\.' and '\.\.' are reserved/);
  });

  test('create under a missing parent names the parent; delete of a node with children counts them', async () => {
    expect((await shell(server, 'create /no-parent/child')).stderr.trim()).toBe('Error: NoNode for /no-parent/child: the parent /no-parent does not exist');
    await shell(server, 'create /full');
    await shell(server, 'create /full/a');
    expect((await shell(server, 'delete /full')).stderr.trim()).toBe('Error: NotEmpty for /full: the node has 1 child; delete them first, or use deleteall');
    expect((await shell(server, 'create /full')).stderr.trim()).toBe('Error: NodeExists for /full: the node already exists');
  });

  test('NoAuth says which permission the command needs', async () => {
    await shell(server, 'create /locked x world:anyone:r');
    expect((await shell(server, 'set /locked y')).stderr).toMatch(/^Error: NoAuth for \/locked: the ACL does not give this session WRITE on the node/);
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

describe('zook shell errors against a server with a small data limit', () => {
  let server: ServerProcess;
  let configDir: string;
  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'zook-shell-config-'));
    writeFileSync(join(configDir, 'zook.json'), JSON.stringify({ maxDataBytes: 100 }));
    server = await startServerProcess({ extraArgs: ['--config', join(configDir, 'zook.json')] });
  });
  afterAll(async () => {
    await server.stop();
    server.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  test('data over the limit says its size and which setting limits it', async () => {
    const result = await shell(server, `create /big ${'a'.repeat(200)}`);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("Error: BadArguments for /big: data is 200 bytes; the server's limit is lower (its maxDataBytes setting, 1048576 bytes by default)");
  });
});

describe('zook shell watches (stdin piped: events print as lines)', () => {
  test('get -w, then a change from another client, prints the event line', async () => {
    const zk = await connect(fixture.current.url);
    await zk.create('/watched', 'one');
    const sh = RunningShell.start(fixture.current);
    await sh.run('get -w /watched', /^one$/m);
    await zk.setData('/watched', 'two');
    await sh.waitFor(/^WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:\/watched zxid:0x[0-9a-f]+$/m);
    expect(await sh.quit()).toBe(0);
    await zk.close();
  });

  test('ls -w and stat -w set one-shot child and existence watches', async () => {
    const zk = await connect(fixture.current.url);
    await zk.create('/kids');
    const sh = RunningShell.start(fixture.current);
    await sh.run('ls -w /kids', /^\[\]$/m);
    await sh.run('stat -w /kids/later', /Node does not exist: \/kids\/later \(watching for its creation\)/);
    await zk.create('/kids/later');
    await sh.waitFor(/type:NodeChildrenChanged path:\/kids zxid/);
    await sh.waitFor(/type:NodeCreated path:\/kids\/later zxid/);
    expect(await sh.quit()).toBe(0);
    await zk.close();
  });

  test('addWatch -m PERSISTENT_RECURSIVE /a, then creates below /a print NodeCreated each time', async () => {
    const zk = await connect(fixture.current.url);
    await zk.create('/rec');
    const sh = RunningShell.start(fixture.current);
    sh.type('addWatch -m PERSISTENT_RECURSIVE /rec\n');
    await sh.run('ls /rec', /^\[\]$/m); // answered after addWatch: the watch is in place
    await zk.create('/rec/a');
    await zk.create('/rec/a/b');
    await sh.waitFor(/type:NodeCreated path:\/rec\/a zxid/);
    await sh.waitFor(/type:NodeCreated path:\/rec\/a\/b zxid/);
    expect(await sh.quit()).toBe(0);
    await zk.close();
  });

  test('removewatches stops events: a later change is not printed', async () => {
    const zk = await connect(fixture.current.url);
    await zk.create('/gone');
    await zk.create('/marker', 'm0');
    const sh = RunningShell.start(fixture.current);
    sh.type('addWatch /gone\n');
    await sh.run('removewatches /gone', /type:PersistentWatchRemoved path:\/gone zxid/);
    await zk.create('/gone/after');
    // Events reach a session in zxid order: the marker's event comes after any event for /gone/after.
    await sh.run('get -w /marker', /^m0$/m);
    await zk.setData('/marker', 'x');
    await sh.waitFor(/type:NodeDataChanged path:\/marker zxid/);
    expect(sh.output).not.toMatch(/path:\/gone\/after/);
    expect(await sh.quit()).toBe(0);
    await zk.close();
  });

  test('removewatches with no watch on the path is NoWatcher', async () => {
    const result = await shell(fixture.current, 'removewatches /nothing-watched');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Error: NoWatcher for /nothing-watched: this shell has no watch of that kind on the path');
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('zook shell watches on a terminal', () => {
  test.skipIf(!hasScript)('an event clears the line being typed, prints, and redraws the prompt with the typed text', async () => {
    const zk = await connect(fixture.current.url);
    await zk.create('/tty', 'v1');
    const sh = RunningShell.startOnTerminal(fixture.current);
    await sh.waitFor(/\[zook: [^\]]*\] /);
    sh.type('get -w /tty\r');
    await sh.waitFor(/^v1\r?$/m);
    sh.type('ls /pa'); // typed, not entered
    await sh.waitFor(/\] (\x1b\[\d+G)?ls \/pa/);
    await zk.setData('/tty', 'v2');
    // ESC[2K clears the line, the event prints on its own line, then the prompt comes back with "ls /pa".
    await sh.waitFor(/\x1b\[2K[^\n]*WATCHER:: WatchedEvent state:SyncConnected type:NodeDataChanged path:\/tty zxid:0x[0-9a-f]+\r?\n[^\n]*\[zook: [^\]]*\] (\x1b\[\d+G)?ls \/pa/);
    expect(await sh.quit('\x15quit\r')).toBe(0); // Ctrl-U drops the typed text, then quit
    await zk.close();
  });
});
