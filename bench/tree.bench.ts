// The data tree in process: ops/s on a 1M-node tree with 100-byte values, memory
// per znode, and snapshot write/read throughput. Reports; never asserts.
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  DataTree,
  NodeKind,
  OPEN_ACL_UNSAFE,
  apply,
  decodeTxn,
  encodeTxn,
  exists,
  getChildren,
  getData,
  loadSnapshot,
  prepare,
  writeSnapshot,
  WatchRegistry,
  type Txn,
  type WatchEvent,
} from '../src/tree/index.js';
import { SeededRandom } from '../src/util/random.js';
import { type BenchCase, type BenchRow, type BenchSuite, formatBytes, formatRate, markdownTable, measure } from './support.js';

const NODES = Number(process.env.TREE_BENCH_NODES ?? 1_000_000);
const PARENTS = 1000;
const VALUE_BYTES = 100;
const TIME_MS = 1_700_000_000_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function settledHeap(): { heap: number; external: number } {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

let sink = 0;

/**
 * tinybench's wall-clock rate, plus the rate per second of this process's CPU time
 * over the same calls: on a shared machine the second is the steadier figure.
 */
async function measureWithCpu(cases: readonly BenchCase[]): Promise<(BenchRow & { itemsPerCpuSecond: number })[]> {
  const rows: (BenchRow & { itemsPerCpuSecond: number })[] = [];
  for (const c of cases) {
    let calls = 0;
    const cpuBefore = process.cpuUsage();
    const [row] = await measure([{ ...c, fn: () => { calls++; return c.fn(); } }]);
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    rows.push({ ...row, itemsPerCpuSecond: (calls * (c.itemsPerCall ?? 1)) / cpuSeconds });
  }
  return rows;
}

function cpuSecondsSince(before: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1e6;
}

function createTxn(path: string, value: Uint8Array): Txn {
  return { type: 'create', path, sequentialPrefix: '', data: value, acl: OPEN_ACL_UNSAFE, kind: NodeKind.Persistent, ephemeralOwner: 0, ttlMs: 0, timeMs: TIME_MS };
}

async function run(): Promise<void> {
  const rng = new SeededRandom(3);
  const value = rng.bytes(VALUE_BYTES);
  const session = { id: 1, authIds: [] };
  const before = settledHeap();
  const tree = new DataTree();
  let zxid = 0;
  apply(tree, { type: 'createSession', sessionId: 1, timeoutMs: 10_000, timeMs: TIME_MS }, ++zxid);
  // 1000 parents with ~1000 children each, e.g. /p0042/c000517.
  const paths: string[] = [];
  let pathChars = 0;
  const buildStart = performance.now();
  const buildCpu = process.cpuUsage();
  const perParent = Math.ceil(NODES / PARENTS) - 1;
  for (let p = 0; p < PARENTS && tree.nodeCount < NODES; p++) {
    const parent = `/p${String(p).padStart(4, '0')}`;
    apply(tree, createTxn(parent, value), ++zxid);
    pathChars += parent.length;
    for (let c = 0; c < perParent && tree.nodeCount < NODES; c++) {
      const path = `${parent}/c${String(c).padStart(6, '0')}`;
      apply(tree, createTxn(path, value), ++zxid);
      paths.push(path);
      pathChars += path.length;
    }
  }
  const buildMs = performance.now() - buildStart;
  const buildCpuSeconds = cpuSecondsSince(buildCpu);
  const after = settledHeap();
  const nodes = tree.nodeCount;
  const heapPerNode = (after.heap - before.heap) / nodes;
  // A path string costs its chars plus ~24 bytes of string header; a value its bytes plus ~24.
  const payloadPerNode = (pathChars + nodes * VALUE_BYTES) / nodes;

  // --- ops/s on the big tree
  const N = paths.length;
  let i = 0;
  const next = (): string => paths[(i = (i + 7919) % N)];
  const setDataTxn = (path: string): Txn => ({ type: 'setData', path, data: value, version: -1, timeMs: TIME_MS });
  let created = 0;
  const rows = await measureWithCpu([
    { name: 'getData, hot set of 1,000 paths', fn: () => { for (let k = 0; k < 1000; k++) { const r = getData(tree, paths[k], session); sink ^= r.error; } }, itemsPerCall: 1000 },
    { name: 'getData, random path', fn: () => { for (let k = 0; k < 1000; k++) { const r = getData(tree, next(), session); sink ^= r.error; } }, itemsPerCall: 1000 },
    { name: 'exists', fn: () => { for (let k = 0; k < 1000; k++) sink ^= exists(tree, next(), session).error; }, itemsPerCall: 1000 },
    { name: 'getChildren (1,000 children)', fn: () => { const r = getChildren(tree, `/p${String(i++ % PARENTS).padStart(4, '0')}`, session); sink ^= r.error; }, itemsPerCall: 1 },
    { name: 'getChildren page of 100', fn: () => { const r = getChildren(tree, `/p${String(i++ % PARENTS).padStart(4, '0')}`, session, undefined, { after: 'c000400', limit: 100 }); sink ^= r.error; }, itemsPerCall: 1 },
    { name: 'setData (apply)', fn: () => { for (let k = 0; k < 100; k++) sink ^= apply(tree, setDataTxn(next()), ++zxid).error; }, itemsPerCall: 100 },
    { name: 'create (apply)', fn: () => { for (let k = 0; k < 100; k++) sink ^= apply(tree, createTxn(`/p${String(created % PARENTS).padStart(4, '0')}/new${created++}`, value), ++zxid).error; }, itemsPerCall: 100 },
    {
      name: 'setData (prepare + txn codec + apply)',
      fn: () => {
        for (let k = 0; k < 100; k++) {
          const p = prepare(tree, { type: 'setData', path: next(), data: value, version: -1 }, session, TIME_MS);
          if (p.error === 0) sink ^= apply(tree, decodeTxn(encodeTxn(p.txn)), ++zxid).error;
        }
      },
      itemsPerCall: 100,
    },
  ]);
  console.log(`Load average when measured: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (wall-clock rates fall when other processes share the cores).\n`);
  console.log(`Tree of ${nodes.toLocaleString('en-US')} znodes (${PARENTS} parents), ${VALUE_BYTES} B values; built by apply in ${(buildMs / 1000).toFixed(1)} s (${formatRate((nodes / buildMs) * 1000)} creates/s; ${formatRate(nodes / buildCpuSeconds)} per CPU-second).\n`);
  console.log(
    markdownTable(
      ['operation (in process, one thread)', 'ops/s (wall clock, tinybench)', 'ops per CPU-second'],
      rows.map((r) => [r.name, formatRate(r.itemsPerSecond), formatRate(r.itemsPerCpuSecond)]),
    ),
  );
  console.log();

  // --- snapshot
  const chunks: Uint8Array[] = [];
  let snapshotBytes = 0;
  const writeStart = performance.now();
  const writeCpu = process.cpuUsage();
  for (const chunk of writeSnapshot(tree, { maxChunkBytes: 1 << 20 })) {
    chunks.push(chunk);
    snapshotBytes += chunk.length;
  }
  const writeMs = performance.now() - writeStart;
  const writeCpuSeconds = cpuSecondsSince(writeCpu);
  const readStart = performance.now();
  const readCpu = process.cpuUsage();
  const loaded = loadSnapshot(chunks);
  const readMs = performance.now() - readStart;
  const readCpuSeconds = cpuSecondsSince(readCpu);
  sink ^= Number(loaded.digest & 1n);
  console.log(
    markdownTable(
      ['measure', 'value'],
      [
        ['heap per znode (heapUsed / nodes)', `${heapPerNode.toFixed(0)} B`],
        ['of which path chars + value bytes', `${payloadPerNode.toFixed(0)} B`],
        ['overhead per znode beyond path and data', `${(heapPerNode - payloadPerNode).toFixed(0)} B`],
        ['external (ArrayBuffer) growth per znode', `${((after.external - before.external) / nodes).toFixed(0)} B`],
        ['snapshot size', `${(snapshotBytes / 1e6).toFixed(1)} MB (${(snapshotBytes / nodes).toFixed(0)} B/znode)`],
        ['snapshot write (1 MiB chunks)', `${formatBytes((snapshotBytes / writeMs) * 1000)} (${(writeMs / 1000).toFixed(2)} s); ${formatBytes(snapshotBytes / writeCpuSeconds)} per CPU-second`],
        ['snapshot read (load + digest check)', `${formatBytes((snapshotBytes / readMs) * 1000)} (${(readMs / 1000).toFixed(2)} s); ${formatBytes(snapshotBytes / readCpuSeconds)} per CPU-second`],
      ],
    ),
  );
  console.log();
  watchMemory();
  if (sink === 0.5) console.log(sink);
}

/** Heap per watch: 1M one-shot data watches on distinct paths, from 1,000 sessions. */
function watchMemory(): void {
  const count = Math.min(NODES, 1_000_000);
  const before = settledHeap();
  const registry = new WatchRegistry();
  let pathChars = 0;
  for (let i = 0; i < count; i++) {
    // A fresh string per watch, as a decoded request would bring.
    const path = `/p${String(i % PARENTS).padStart(4, '0')}/c${String(i).padStart(6, '0')}`;
    pathChars += path.length;
    registry.addDataWatch(path, 1 + (i % 1000));
  }
  const after = settledHeap();
  const perWatch = (after.heap - before.heap) / count;
  const acl = new DataTree().nodes.get('/')!.aclEntry;
  const triggerStart = performance.now();
  const events: WatchEvent[] = [];
  for (let i = 0; i < 100_000; i++) registry.dataChanged(`/p${String(i % PARENTS).padStart(4, '0')}/c${String(i).padStart(6, '0')}`, 1, acl, events);
  const triggerMs = performance.now() - triggerStart;
  console.log(
    markdownTable(
      ['watch registry', 'value'],
      [
        [`heap per watch (${count.toLocaleString('en-US')} data watches, distinct paths, 1,000 sessions)`, `${perWatch.toFixed(0)} B`],
        ['of which the path string (chars + ~24 B header)', `${(pathChars / count + 24).toFixed(0)} B`],
        ['trigger + remove a one-shot watch', `${formatRate((100_000 / triggerMs) * 1000)} events/s`],
      ],
    ),
  );
  sink ^= events.length + registry.size;
}

const suite: BenchSuite = { name: 'tree', run };
export default suite;
