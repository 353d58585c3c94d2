// A throwaway local server process for the end-to-end benchmarks: its own temp
// data dir, a free port, stopped with SIGTERM and cleaned up.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
/** True when running from tsc output (dist/), false under tsx. */
export const COMPILED = import.meta.url.endsWith('.js');
/** Node flags a child process needs to run this folder's sources. */
export const CHILD_EXEC_ARGV: readonly string[] = COMPILED ? [] : ['--import', 'tsx'];

export interface LocalServer {
  readonly port: number;
  readonly url: string;
  /** The ZooKeeper-protocol port. */
  readonly zkPort: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startLocalServer(extraArgs: readonly string[] = []): Promise<LocalServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zook-bench-'));
  const main = join(here, COMPILED ? '../../src/cli/main.js' : '../../src/cli/main.ts');
  const args = [...CHILD_EXEC_ARGV, main, 'server', '--port', '0', '--zk-port', '0', '--data-dir', dataDir, ...extraArgs];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const zkPort = Number(/\(ZooKeeper clients: [^:\s]+:(\d+)\)/.exec(out)?.[1] ?? NaN);
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    zkPort,
    pid: child.pid ?? 0,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
