// Drives crash-child.ts: start it, let it acknowledge a random number of entries,
// kill -9 it, recover the WAL in this process and check it against every
// acknowledgement the child printed. Waits on the child's output, never on a clock.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SnapshotStore, WriteAheadLog } from '../../src/storage/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { CRASH_WAL_OPTIONS, entryData, snapshotChunks, withTempDir } from './support.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

export interface CrashRunOptions {
  readonly mode: 'append' | 'truncate';
  readonly kills: number;
  /** Independent logs crashed side by side (processes in parallel). */
  readonly lanes: number;
  readonly writers: number;
  readonly seed: number;
  /** A round kills the child after a uniform number of acknowledgements in [0, maxAcks]. */
  readonly maxAcks: number;
}

/**
 * What the child has promised so far. An acknowledged entry must survive unless a
 * cut issued after it (C) covers it; after a durable cut (T), no entry at or past
 * its start may have an older term (the cut entries never come back).
 */
class Promises {
  readonly acked = new Map<number, number>();
  readonly issuedCuts: Array<{ from: number; term: number }> = [];
  readonly durableCuts: Array<{ from: number; term: number }> = [];
  maxTerm = 0;
  /** Every line, for the failure report. */
  readonly history: string[] = [];

  line(text: string): number {
    this.history.push(text);
    const [kind, a, b] = text.split(' ');
    const index = Number(a);
    const term = Number(b);
    this.maxTerm = Math.max(this.maxTerm, term);
    if (kind === 'A') {
      // An append queued before a cut may be acknowledged after the cut was issued.
      if (!this.issuedCuts.some((cut) => cut.from <= index && cut.term > term)) this.acked.set(index, term);
      return 1;
    }
    if (kind === 'C') {
      for (const acked of this.acked.keys()) if (acked >= index) this.acked.delete(acked);
      this.issuedCuts.push({ from: index, term });
    }
    if (kind === 'T') this.durableCuts.push({ from: index, term });
    return 0;
  }
}

export interface ChildRun {
  /** Lines the count function counted (acknowledgements). */
  readonly counted: number;
  readonly stderr: string;
  readonly exitedOnItsOwn: boolean;
}

/**
 * Runs `node --import tsx <script> ...args`, hands each complete stdout line to
 * `onLine` (which says whether it counts), and kill -9s the child once `killAfter`
 * lines counted (at once when 0). Resolves when the child is gone.
 */
export function runAndKill(script: string, args: readonly string[], killAfter: number, onLine: (line: string) => boolean): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let counted = 0;
    let stderr = '';
    let killed = false;
    const kill = (): void => {
      if (!killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    if (killAfter === 0) kill();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const end = pending.lastIndexOf('\n');
      if (end < 0) return;
      for (const text of pending.slice(0, end).split('\n')) if (onLine(text)) counted++;
      pending = pending.slice(end + 1);
      if (counted >= killAfter) kill();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', () => resolve({ counted, stderr, exitedOnItsOwn: !killed }));
  });
}

function runChild(dir: string, options: CrashRunOptions, seed: number, firstTerm: number, killAfterAcks: number, promises: Promises): Promise<ChildRun> {
  const args = [dir, options.mode, String(options.writers), String(seed), String(firstTerm)];
  return runAndKill(CHILD, args, killAfterAcks, (line) => promises.line(line) === 1);
}

function fail(message: string): never {
  throw new Error(message);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Recovers the log and checks every promise the child made. */
async function verify(dir: string, promises: Promises): Promise<number> {
  const wal = await WriteAheadLog.open(dir, CRASH_WAL_OPTIONS);
  try {
    const last = wal.lastIndex();
    const entries = last >= wal.firstIndex() ? await wal.entries(wal.firstIndex(), last + 1) : [];
    let previousTerm = 0;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k];
      // In order, no duplicate, no hole:
      if (e.index !== wal.firstIndex() + k) fail(`entry at position ${k} has index ${e.index}`);
      // No garbage: the content is exactly what the child framed for (index, term).
      if (!sameBytes(e.data, entryData(e.index, e.term)) || e.type !== 1 + (e.index % 255)) {
        fail(`entry ${e.index} (term ${e.term}) does not hold what was written for it`);
      }
      if (e.term < previousTerm) fail(`entry ${e.index} has term ${e.term} after term ${previousTerm}`);
      previousTerm = e.term;
    }
    for (const [index, term] of promises.acked) {
      if (index > last) throw new Error(`acknowledged entry ${index} (term ${term}) lost: the log ends at ${last}`);
      const e = entries[index - wal.firstIndex()];
      if (e.term !== term) throw new Error(`acknowledged entry ${index} has term ${e.term}, expected ${term}`);
    }
    // Terms never decrease along the log (checked above), so checking the first
    // entry at or after a cut checks them all.
    for (const cut of promises.durableCuts) {
      const e = entries[Math.max(cut.from, wal.firstIndex()) - wal.firstIndex()];
      if (e !== undefined && e.term < cut.term) {
        throw new Error(`entry ${e.index} (term ${e.term}) came back after the durable cut from ${cut.from} (term ${cut.term})`);
      }
    }
    for (const e of entries) promises.maxTerm = Math.max(promises.maxTerm, e.term);
    return last;
  } finally {
    await wal.close();
  }
}

async function runLane(options: CrashRunOptions, lane: number, kills: number): Promise<{ acks: number; lastIndex: number }> {
  const rng = new SeededRandom(options.seed * 1000 + lane);
  return withTempDir(async (dir) => {
    const promises = new Promises();
    let acks = 0;
    let lastIndex = 0;
    for (let round = 0; round < kills; round++) {
      const killAfter = rng.int(options.maxAcks + 1);
      promises.history.push(`--- round ${round}, kill after ${killAfter} acks`);
      const run = await runChild(dir, options, rng.nextUint32(), promises.maxTerm + 1, killAfter, promises);
      if (run.exitedOnItsOwn) throw new Error(`crash child exited before it was killed (round ${round}):\n${run.stderr}`);
      acks += run.counted;
      try {
        lastIndex = await verify(dir, promises);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const report = join(tmpdir(), `zook-crash-lane${lane}-seed${options.seed}.txt`);
        writeFileSync(report, promises.history.join('\n'));
        throw new Error(`lane ${lane} round ${round} (seed ${options.seed}): ${message}\nchild lines in ${report}\nchild stderr:\n${run.stderr}`, { cause: error });
      }
    }
    return { acks, lastIndex };
  });
}

/** Runs options.kills kill -9 rounds spread over the lanes; returns totals for the report. */
export async function runCrashRounds(options: CrashRunOptions): Promise<{ kills: number; acks: number }> {
  const perLane = Math.ceil(options.kills / options.lanes);
  const results = await Promise.all(Array.from({ length: options.lanes }, (_, lane) => runLane(options, lane, perLane)));
  return { kills: perLane * options.lanes, acks: results.reduce((sum, r) => sum + r.acks, 0) };
}

/** Kills for one crash test: ZOOK_CRASH_KILLS is the total, split over the two tests. */
export function killsFromEnv(defaultKills: number): number {
  const fromEnv = process.env.ZOOK_CRASH_KILLS;
  return fromEnv === undefined ? defaultKills : Math.max(1, Math.ceil(Number(fromEnv) / 2));
}

const SNAPSHOT_CHILD = fileURLToPath(new URL('./snapshot-crash-child.ts', import.meta.url));

/**
 * Kills a process that saves snapshots in a loop, `kills` times at random points;
 * after each kill the newest valid snapshot must be at least the last one
 * acknowledged, hold exactly its content, and no snapshot file may be damaged.
 */
export async function runSnapshotCrashRounds(kills: number, seed: number): Promise<number> {
  const rng = new SeededRandom(seed);
  return withTempDir(async (dir) => {
    let acknowledged = 0;
    for (let round = 0; round < kills; round++) {
      const run = await runAndKill(SNAPSHOT_CHILD, [dir], rng.int(4), (line) => {
        if (!line.startsWith('S ')) return false;
        acknowledged = Math.max(acknowledged, Number(line.slice(2)));
        return true;
      });
      if (run.exitedOnItsOwn) throw new Error(`snapshot child exited before it was killed (round ${round}):\n${run.stderr}`);
      const messages: string[] = [];
      const store = await SnapshotStore.open(dir, { logger: (m) => messages.push(m) });
      const newest = await store.newest();
      if (messages.length > 0) throw new Error(`round ${round}: ${messages.join('; ')}`);
      if (acknowledged > 0 && (newest === undefined || newest.index < acknowledged)) {
        throw new Error(`round ${round}: snapshot ${acknowledged} was acknowledged, the newest valid one is ${newest?.index}`);
      }
      if (newest !== undefined) {
        const parts: Uint8Array[] = [];
        for await (const chunk of newest.chunks()) parts.push(chunk);
        if (!Buffer.concat(parts).equals(Buffer.concat([...snapshotChunks(newest.index)]))) {
          throw new Error(`round ${round}: snapshot ${newest.index} does not hold what was saved`);
        }
      }
    }
    return kills;
  });
}
