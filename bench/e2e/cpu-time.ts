// Server CPU time per operation: the user + system time of the server processes
// (every thread: a JVM's GC and I/O threads, Node's libuv pool doing fsync),
// read from /proc/<pid>/stat at the start and end of a measured window. The load
// generator's own processes are not among them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) the processes have used so far; a vanished pid counts 0. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  }
  return ticks / clockTicks();
}

/** Parses "--cpu-pids 1,2,3" (empty or undefined: none). */
export function parsePids(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((p) => {
    const pid = Number(p.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`--cpu-pids takes process ids, not ${p}`);
    return pid;
  });
}
