// One owner per data dir (src/storage/data-dir-lock.ts): a live holder, in this
// process or another, keeps everyone else out and is named in the refusal; a
// holder killed with SIGKILL leaves nothing that blocks the next one.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { DataDirLock, DataDirLocked, LOCK_FILE, LOCK_SOCKET_FILE, dataDirHolder } from '../../src/storage/data-dir-lock.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = join(ROOT, 'test/storage/lock-holder-child.ts');

const dirs: string[] = [];
const children: ChildProcess[] = [];
const locks: DataDirLock[] = [];

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zook-lock-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const lock of locks.splice(0)) await lock.release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function acquire(dir: string, owner = 'test', socketFile = false): Promise<DataDirLock> {
  const lock = await DataDirLock.acquire(dir, owner, { socketFile });
  locks.push(lock);
  return lock;
}

/** Starts a holder process on `dir` and resolves once it holds the lock. */
async function holderProcess(dir: string, mode: 'abstract' | 'file' | 'busy' = 'abstract'): Promise<{ child: ChildProcess; pid: number; killed: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const killed = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /held (\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}: ${output}`)));
  });
  return { child, pid, killed };
}

async function refusal(dir: string, socketFile = false): Promise<DataDirLocked> {
  const error = await DataDirLock.acquire(dir, 'second', { socketFile }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataDirLocked);
  return error as DataDirLocked;
}

describe('data dir lock', () => {
  test('a second acquire in the same process is refused while the first holds', async () => {
    const dir = newDir();
    const first = await acquire(dir, 'first');
    const error = await refusal(dir);
    expect(error.holder?.pid).toBe(process.pid);
    expect(error.holder?.owner).toBe('first');
    await first.release();
    await acquire(dir);
  });

  test('another process holding the dir is named in the refusal with its pid and port', async () => {
    const dir = newDir();
    const holder = await holderProcess(dir);
    const error = await refusal(dir);
    expect(error.answered).toBe(true);
    expect(error.holder).toMatchObject({ pid: holder.pid, owner: 'lock-holder-child', port: 4321 });
    expect(error.message).toContain(`pid ${holder.pid}`);
    expect(error.message).toContain(dir);
  });

  test('a holder too busy to answer is still refused, and named from its LOCK file', async () => {
    const dir = newDir();
    const holder = await holderProcess(dir, 'busy');
    const error = await DataDirLock.acquire(dir, 'second', { holderAnswerTimeoutMs: 300 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataDirLocked);
    expect((error as DataDirLocked).answered).toBe(false);
    expect((error as DataDirLocked).holder?.pid).toBe(holder.pid);
    expect((error as DataDirLocked).message).toContain(`LOCK file names lock-holder-child (pid ${holder.pid}`);
  });

  test('after the holder is killed with SIGKILL the dir can be taken at once', async () => {
    const dir = newDir();
    const holder = await holderProcess(dir);
    holder.child.kill('SIGKILL');
    await holder.killed;
    // The LOCK file the dead holder wrote is still there: informational only, it blocks nothing.
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    const lock = await acquire(dir, 'next');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, owner: 'next' });
    expect(lock.holder.pid).toBe(process.pid);
  });

  test('the lock belongs to the directory, not the path: a symlink to a held dir is refused', async () => {
    const dir = newDir();
    await acquire(dir);
    const link = join(newDir(), 'link');
    symlinkSync(dir, link);
    await refusal(link);
  });

  test('the LOCK file names the holder and its ports, and goes away on release', async () => {
    const dir = newDir();
    const lock = await acquire(dir, 'zook server 1');
    lock.describe({ host: '127.0.0.1', port: 8181, zkPort: 2181 });
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, owner: 'zook server 1', port: 8181, zkPort: 2181 });
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  test('dataDirHolder names a live holder without taking the dir, and says null for a free one', async () => {
    const dir = newDir();
    expect(await dataDirHolder(dir)).toBeNull();
    const holder = await holderProcess(dir);
    expect((await dataDirHolder(dir))?.holder?.pid).toBe(holder.pid);
    holder.child.kill('SIGKILL');
    await holder.killed;
    expect(await dataDirHolder(dir)).toBeNull();
  });

  test('socket-file mode (no abstract namespace): the socket file left by a SIGKILLed holder is replaced', async () => {
    const dir = newDir();
    const holder = await holderProcess(dir, 'file');
    expect((await refusal(dir, true)).holder?.pid).toBe(holder.pid);
    holder.child.kill('SIGKILL');
    await holder.killed;
    expect(existsSync(join(dir, LOCK_SOCKET_FILE))).toBe(true);
    await acquire(dir, 'next', true);
    expect((await refusal(dir, true)).holder?.owner).toBe('next');
  });
});
