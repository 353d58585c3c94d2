// Helpers for the suites that drive non-JavaScript ZooKeeper clients (Apache's zkCli.sh,
// Python's kazoo) against a real zook server over TCP. Both come from Debian packages:
// `bash test/zookeeper/external/install-deps.sh` installs them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe } from 'vitest';
import { until } from '../../support/until.js';

export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
/** Debian's Python, which python3-kazoo installs into (not a pyenv `python3` on PATH). */
export const PYTHON = '/usr/bin/python3';
export const JAVAC = '/usr/bin/javac';
/** Debian's ZooKeeper jar: the Java client itself (its manifest's Class-Path names the jars it needs). */
export const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
export const INSTALL_COMMAND = 'bash test/zookeeper/external/install-deps.sh';
const PY_DIR = fileURLToPath(new URL('./py/', import.meta.url));

export type Dependency = 'zkCli.sh' | 'kazoo' | 'javac';

function whatIsMissing(dep: Dependency): string | null {
  switch (dep) {
    case 'zkCli.sh':
      return existsSync(ZKCLI) && existsSync('/usr/bin/java') ? null : `${ZKCLI} (Debian package zookeeper)`;
    case 'javac':
      return existsSync(JAVAC) && existsSync(ZOOKEEPER_JAR) ? null : `${JAVAC} (Debian package openjdk-17-jdk-headless) and ${ZOOKEEPER_JAR} (zookeeper)`;
    case 'kazoo': {
      const probe = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import kazoo.client'], { stdio: 'ignore', timeout: 30_000 }) : null;
      return probe?.status === 0 ? null : `kazoo for ${PYTHON} (Debian package python3-kazoo)`;
    }
  }
}

const checked = new Map<Dependency, string | null>();

/** What of `deps` is not installed, each described with its Debian package (checked once per process). */
export function missingDependencies(deps: readonly Dependency[]): string[] {
  for (const dep of deps) if (!checked.has(dep)) checked.set(dep, whatIsMissing(dep));
  return deps.map((dep) => checked.get(dep)!).filter((m): m is string => m !== null);
}

const onCi = (): boolean => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
};

/**
 * A describe block that needs `deps`. When one is missing: on CI (CI set) every test
 * in it fails naming the install command; elsewhere the block is skipped, with a
 * console warning saying so and how to install them. Never silently skipped.
 */
export function describeWith(deps: readonly Dependency[], name: string, body: () => void): void {
  const missing = missingDependencies(deps);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const message = `missing ${missing.join(' and ')}: install with \`${INSTALL_COMMAND}\` (as root)`;
  if (onCi()) {
    describe(name, () => {
      beforeEach(() => {
        throw new Error(message);
      });
      body();
    });
  } else {
    console.warn(`SKIPPED "${name}": ${message}`);
    describe.skip(`${name} [skipped: ${message}]`, body);
  }
}

// ---- four-letter words ----

/** Sends a four-letter word to 127.0.0.1:port and returns everything the server wrote before closing. */
export function fourLetterWord(port: number, word: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(word));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${word}: the server did not close within ${timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

// ---- zkCli.sh ----

/** Lines zkCli.sh prints around every run (JVM logging, banner, connection state). */
const NOISE = [
  /^SLF4J: /,
  /^Connecting to /,
  /^Welcome to ZooKeeper!$/,
  /^JLine support is /,
  /^WATCHER::$/,
  /^WatchedEvent state:(SyncConnected|Closed) type:None path:null$/,
  /^\s*$/,
];

/** What zkCli.sh printed, without its noise. */
export function cliLines(text: string): string[] {
  return text.split('\n').filter((line) => !NOISE.some((re) => re.test(line)));
}

export interface CliResult {
  readonly code: number | null;
  /** stdout lines, noise removed */
  readonly out: string[];
  /** stderr lines (where zkCli.sh reports a failed command), noise removed */
  readonly err: string[];
}

// A quick-starting client JVM: these runs are short.
const CLI_ENV = { ...process.env, CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto' };

function collect(child: ChildProcess, what: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what}: still running after ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `zkCli.sh -server 127.0.0.1:port <command...>`: one command, then it exits. */
export async function zkCli(port: number, ...command: string[]): Promise<CliResult> {
  const child = spawn(ZKCLI, ['-server', `127.0.0.1:${port}`, ...command], { env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const { code, stdout, stderr } = await collect(child, `zkCli.sh ${command.join(' ')}`, 30_000);
  return { code, out: cliLines(stdout), err: cliLines(stderr) };
}

/**
 * Runs `commands` as one zkCli.sh session (a script on its stdin, one session for all
 * of them); returns stdout and stderr merged in order, noise removed. (Its exit code
 * is that of the last command, so a script whose last command fails exits 1.)
 */
export async function zkCliScript(port: number, commands: readonly string[]): Promise<string[]> {
  const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', ZKCLI, '-server', `127.0.0.1:${port}`], { env: CLI_ENV, stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin!.end(`${[...commands, 'quit'].join('\n')}\n`);
  const { stdout } = await collect(child, `zkCli.sh script ${JSON.stringify(commands)}`, 30_000);
  return cliLines(stdout);
}

/** An interactive zkCli.sh session: commands are written to its stdin while it runs (for watches). */
export class ZkCliSession {
  private text = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  static async open(port: number): Promise<ZkCliSession> {
    const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', ZKCLI, '-server', `127.0.0.1:${port}`], { env: CLI_ENV, stdio: ['pipe', 'pipe', 'ignore'] });
    const session = new ZkCliSession(child);
    await session.waitFor('WatchedEvent state:SyncConnected type:None path:null', true);
    return session;
  }

  /** Everything printed so far, noise removed. */
  lines(): string[] {
    return cliLines(this.text);
  }

  run(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  /** Waits until the session printed `line` (exactly, as a whole line) `times` times. */
  async waitFor(line: string, raw = false, times = 1, timeoutMs = 20_000): Promise<void> {
    await until(
      `zkCli.sh to print "${line}"${times > 1 ? ` ${times} times` : ''}; so far:\n${this.text}`,
      () => ((raw ? this.text.split('\n') : this.lines()).filter((l) => l === line).length >= times ? true : undefined),
      timeoutMs,
      25,
    );
  }

  async quit(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.stdin!.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

// ---- kazoo (Python scripts under py/) ----

function pythonArgs(script: string, args: readonly string[]): string[] {
  return ['-B', '-u', `${PY_DIR}${script}`, ...args];
}

const PY_ENV = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };

/** Runs `/usr/bin/python3 py/<script> args...`, which prints one JSON object as its last line; returns it. */
export async function python<T = Record<string, unknown>>(script: string, args: readonly string[], timeoutMs = 45_000): Promise<T> {
  const child = spawn(PYTHON, pythonArgs(script, args), { env: PY_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  const { code, stdout, stderr } = await collect(child, `${script} ${args.join(' ')}`, timeoutMs);
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${script}: last line is not JSON: ${last}\nstderr:\n${stderr}`);
  }
}

/**
 * A Python script driven step by step: it prints one JSON object per line as it
 * reaches each step, and reads a line on stdin when it needs the test to act.
 */
export class PythonProcess {
  private stdout = '';
  private stderr = '';
  private taken = 0;
  /** Set once it exited and its output is all read. */
  private closedWith: { code: number | null } | null = null;
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.on('close', (code) => {
        this.closedWith = { code };
        resolve(code);
      }),
    );
  }

  static start(script: string, args: readonly string[]): PythonProcess {
    return new PythonProcess(spawn(PYTHON, pythonArgs(script, args), { env: PY_ENV, stdio: ['pipe', 'pipe', 'pipe'] }), script);
  }

  /** The next JSON line it prints; fails if the script exits first. */
  async next<T = Record<string, unknown>>(what: string, timeoutMs = 30_000): Promise<T> {
    const next = await until(
      `${this.name}: ${what}`,
      (): { line: string } | { exited: number | null } | undefined => {
        const lines = this.stdout.split('\n');
        if (lines.length - 1 > this.taken) return { line: lines[this.taken++] };
        if (this.closedWith !== null) return { exited: this.closedWith.code };
        return undefined;
      },
      timeoutMs,
      25,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
    });
    if ('exited' in next) throw new Error(`${this.name} exited with ${next.exited} before ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
    return JSON.parse(next.line) as T;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Waits for it to exit (killing it after `timeoutMs`); throws with its output if it failed. */
  async finish(timeoutMs = 30_000): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${this.name} exited with ${code}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
