// Processes the CLI tests start and must see gone: `zook cluster` and its servers.
import { readdirSync, readFileSync } from 'node:fs';

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of live `zook server` processes started with `--config <ensemblePath>`, from /proc. */
export function serverPids(ensemblePath: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const at = args.indexOf('--config');
    if (args.includes('server') && at >= 0 && args[at + 1] === ensemblePath) pids.push(Number(name));
  }
  return pids;
}
