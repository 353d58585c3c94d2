// A process to kill -9. Opens (recovers) the WAL in argv[2], then appends forever
// from many concurrent writers, printing `A <index> <term>` for each acknowledged
// entry. In mode `truncate` it also cuts the log's recent suffix now and then,
// printing `C <fromIndex> <newTerm>` as it issues a cut and `T <fromIndex> <newTerm>`
// once the cut is durable; entries appended after
// a cut carry the new term, so a reader can tell them from the old, cut ones.
// A line printed may be lost by the kill (stdout is buffered when the pipe is
// full): that only weakens what is checked, except for cuts, which are flushed
// before they are issued.
// Run: node --import tsx test/storage/crash-child.ts <dir> <append|truncate> <writers> <seed> <firstTerm>
import { WriteAheadLog } from '../../src/storage/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { CRASH_WAL_OPTIONS, makeEntry } from './support.js';

const [dir, mode, writersArg, seedArg, firstTermArg] = process.argv.slice(2);
if (dir === undefined || (mode !== 'append' && mode !== 'truncate')) {
  throw new Error('usage: crash-child.ts <dir> <append|truncate> <writers> <seed>');
}
const writers = Number(writersArg ?? 16);
const rng = new SeededRandom(Number(seedArg ?? 1));

const wal = await WriteAheadLog.open(dir, CRASH_WAL_OPTIONS);
// Terms only grow across restarts, so 'older than a cut' stays checkable.
let term = Math.max(Number(firstTermArg ?? 1), (wal.term(wal.lastIndex()) ?? 0) + 1);
process.stdout.write(`R ${wal.lastIndex()} ${term}\n`);

function writeLine(line: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(line, (error) => (error ? reject(error) : resolve())));
}

async function writer(): Promise<void> {
  for (;;) {
    const entry = makeEntry(wal.lastIndex() + 1, term);
    await wal.append([entry]);
    process.stdout.write(`A ${entry.index} ${entry.term}\n`);
  }
}

async function truncator(): Promise<void> {
  for (;;) {
    // Let some appends through, then cut somewhere in the recent suffix.
    await wal.append([makeEntry(wal.lastIndex() + 1, term)]);
    if (rng.int(8) !== 0) continue;
    const last = wal.lastIndex();
    const from = Math.max(wal.firstIndex(), last - rng.int(40));
    // Announced, and flushed to the pipe, before it is issued: from here on, entries
    // at or after `from` with an older term are no longer promised (the cut may or
    // may not survive a crash). stdout to a full pipe is asynchronous in Node, so
    // wait for the write to reach the pipe.
    await writeLine(`C ${from} ${term + 1}\n`);
    term++;
    await wal.truncateSuffix(from);
    process.stdout.write(`T ${from} ${term}\n`);
  }
}

const tasks: Array<Promise<void>> = [];
for (let i = 0; i < writers; i++) tasks.push(writer());
if (mode === 'truncate') tasks.push(truncator());
await Promise.all(tasks);
