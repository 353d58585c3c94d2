// Runs bench/e2e/main in a child process (one side of a comparison) and keeps its
// output, with the machine's load average before and after: comparisons are only
// read together with the load they ran under.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_EXEC_ARGV, COMPILED } from './local-server.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const mainScript = join(here, `main.${COMPILED ? 'js' : 'ts'}`);

/** The 1- and 5-minute load averages, as printed next to every figure. */
export const loadAverage = (): string => loadavg().slice(0, 2).map((l) => l.toFixed(2)).join(' / ');

export interface MainRun {
  readonly output: string;
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly seconds: number;
}

/** `node main <args>`; its stdout is echoed to stderr as it comes and returned. Throws if it fails. */
export async function runMain(name: string, args: readonly string[]): Promise<MainRun> {
  const loadBefore = loadAverage();
  const started = Date.now();
  console.error(`bench: ${name}: node main ${args.join(' ')} (load ${loadBefore})`);
  const child = spawn(process.execPath, [...CHILD_EXEC_ARGV, mainScript, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${name} run exited with ${code}`);
  return { output, loadBefore, loadAfter: loadAverage(), seconds: (Date.now() - started) / 1000 };
}
