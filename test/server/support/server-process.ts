// Starts a real zook server process on a free port with a temporary data dir, for
// integration tests. Waits for its "listening" line; never sleeps for a fixed time.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

export interface ServerProcess {
  readonly port: number;
  /** ZooKeeper-protocol port. */
  readonly zkPort: number;
  /** ws://127.0.0.1:port, or wss:// when the server was started with TLS. */
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGKILL: a crash, nothing flushed on the way out. */
  kill9(): Promise<void>;
  /** SIGTERM: a graceful stop; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Removes the data dir (after the process is gone). */
  cleanup(): void;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly port?: number;
  readonly zkPort?: number;
  readonly tickMs?: number;
  readonly extraArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'zook-test-'));
}

export async function startServerProcess(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? newDataDir();
  const args = ['--import', 'tsx', MAIN, 'server', '--port', String(options.port ?? 0), '--zk-port', String(options.zkPort ?? 0), '--data-dir', dataDir];
  if (options.tickMs !== undefined) args.push('--tick-ms', String(options.tickMs));
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const [scheme, port, zkPort] = await new Promise<[string, number, number]>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (wss?):\/\/[^:]+:(\d+) \(ZooKeeper clients: [^:]+:(\d+)[ )]/.exec(output);
      if (match) resolve([match[1], Number(match[2]), Number(match[3])]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  return {
    port,
    zkPort,
    url: `${scheme}://127.0.0.1:${port}`,
    dataDir,
    child,
    output: () => output,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One server process for the enclosing describe block (or file): started before its
 * tests, stopped and its data removed after. Read `.current` inside tests.
 */
export function useServerProcess(options: StartOptions = {}): { readonly current: ServerProcess } {
  const holder: { current: ServerProcess } = { current: undefined as unknown as ServerProcess };
  beforeAll(async () => {
    holder.current = await startServerProcess(options);
  });
  afterAll(async () => {
    await holder.current.stop();
    holder.current.cleanup();
  });
  return holder;
}
