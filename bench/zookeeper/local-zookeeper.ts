// Starts Apache ZooKeeper for `bench:e2e --target zookeeper://local` by running
// start-local.sh (the one place that knows Debian's jar and writes the configs),
// waits for its "ready host:port,..." line, and stops it with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The script is not copied into dist/, so find it in the source tree either way.
const SCRIPT = fileURLToPath(
  new URL(import.meta.url.endsWith('.js') ? '../../../bench/zookeeper/start-local.sh' : './start-local.sh', import.meta.url),
);

export interface LocalZooKeeper {
  /** host:port[,host:port...] as ZooKeeper clients take it. */
  readonly connectString: string;
  /** The JVM of every node (for server CPU per operation). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** True when Debian's zookeeper package is installed (its jar is where the script looks). */
export function zookeeperInstalled(): boolean {
  return existsSync('/usr/share/java/zookeeper.jar');
}

export async function startLocalZooKeeper(nodes = 1): Promise<LocalZooKeeper> {
  if (!zookeeperInstalled()) throw new Error('ZooKeeper is not installed: sudo apt-get install -y zookeeper');
  // A random port base so a stray ZooKeeper on 2181 (or a previous run) does not
  // collide; every port it derives (base + 2000 + N) stays below Linux's ephemeral range.
  const port = 20000 + Math.floor(Math.random() * 9000);
  const child: ChildProcess = spawn('bash', [SCRIPT, '--nodes', String(nodes), '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  const connectString = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then(() => reject(new Error(`start-local.sh exited before ZooKeeper was ready`)));
  });
  const pids = (/^pids (\S+)$/m.exec(out)?.[1] ?? '').split(',').filter(Boolean).map(Number);
  return {
    connectString,
    pids,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
