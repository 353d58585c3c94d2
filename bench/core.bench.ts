// The WASM core against its pure-TS references and a native library.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { MemberRing, RecordBatchEncoder, crc32c, hash64, jumpHash } from '../src/core/index.js';
import { crc32cReference, xxh64Reference } from '../src/core/reference.js';
import { SeededRandom } from '../src/util/random.js';
import { type BenchSuite, formatBytes, formatRate, markdownTable, measure } from './support.js';

const rng = new SeededRandom(7);
let sink = 0;

async function crcTable(): Promise<void> {
  const rows: string[][] = [];
  for (const [label, size] of [
    ['256 B', 256],
    ['4 KiB', 4096],
    ['64 KiB', 65_536],
    ['1 MiB', 1_048_576],
  ] as const) {
    const bytes = rng.bytes(size);
    const buffer = Buffer.from(bytes);
    const [wasm, ts, native] = await measure([
      { name: `wasm ${label}`, fn: () => (sink ^= crc32c(bytes)), bytesPerCall: size },
      { name: `ts ${label}`, fn: () => (sink ^= crc32cReference(bytes)), bytesPerCall: size },
      { name: `native ${label}`, fn: () => (sink ^= nativeCrc32c(buffer)), bytesPerCall: size },
    ]);
    const w = wasm.bytesPerSecond!;
    rows.push([
      label,
      formatBytes(w),
      formatBytes(ts.bytesPerSecond!),
      formatBytes(native.bytesPerSecond!),
      `${(w / ts.bytesPerSecond!).toFixed(2)}x`,
      `${(w / native.bytesPerSecond!).toFixed(2)}x`,
    ]);
  }
  console.log('CRC-32C (WASM includes copying the input into WASM memory)\n');
  console.log(markdownTable(['size', 'WASM', 'TS slicing-by-8', '@node-rs/crc32 (native)', 'WASM/TS', 'WASM/native'], rows));
}

async function framingTable(): Promise<void> {
  const rows: string[][] = [];
  for (const payloadBytes of [100, 1024]) {
    const payload = rng.bytes(payloadBytes);
    for (const batch of [1, 64, 1024]) {
      const encoder = new RecordBatchEncoder(batch * (payloadBytes + 32));
      const [row] = await measure([
        {
          name: `frame ${payloadBytes} B x ${batch}`,
          fn: () => {
            encoder.reset();
            for (let i = 0; i < batch; i++) encoder.add(1, 3, i + 1, payload);
            sink ^= encoder.bytes().length;
          },
          itemsPerCall: batch,
          bytesPerCall: batch * (payloadBytes + 32),
        },
      ]);
      encoder.dispose();
      rows.push([`${payloadBytes} B`, String(batch), `${formatRate(row.itemsPerSecond)} records/s`, formatBytes(row.bytesPerSecond!)]);
    }
  }
  console.log('\nRecord framing (copy payload into WASM memory, header, two CRCs)\n');
  console.log(markdownTable(['payload', 'batch', 'records/s', 'framed bytes/s'], rows));
}

async function hashTable(): Promise<void> {
  const key16 = rng.bytes(16);
  const key100 = rng.bytes(100);
  const keys = Array.from({ length: 1024 }, () => rng.uint64());
  let k = 0;
  const ring10 = new MemberRing();
  const ring100 = new MemberRing();
  for (let i = 0; i < 100; i++) {
    if (i < 10) ring10.set(`10.0.0.${i}:2181`, 1 + (i % 3));
    ring100.set(`10.0.1.${i}:2181`, 1 + (i % 3));
  }
  const ringKeys = Array.from({ length: 1024 }, (_, i) => `user-${i * 7919}`);
  const cases = await measure([
    { name: 'hash64 16 B (WASM)', fn: () => (sink ^= Number(hash64(key16) & 0xffn)) },
    { name: 'hash64 100 B (WASM)', fn: () => (sink ^= Number(hash64(key100) & 0xffn)) },
    { name: 'hash64 100 B (TS BigInt reference)', fn: () => (sink ^= Number(xxh64Reference(key100) & 0xffn)) },
    { name: 'jumpHash, 1,000 buckets', fn: () => (sink ^= jumpHash(keys[k++ & 1023], 1000)) },
    { name: 'ring pick, 10 weighted members', fn: () => (sink ^= ring10.pick(ringKeys[k++ & 1023])!.length) },
    { name: 'ring pick, 100 weighted members', fn: () => (sink ^= ring100.pick(ringKeys[k++ & 1023])!.length) },
    { name: 'ring pickN(3), 100 weighted members', fn: () => (sink ^= ring100.pickN(ringKeys[k++ & 1023], 3).length) },
  ]);
  ring10.dispose();
  ring100.dispose();
  console.log('\nHashing and the member ring\n');
  console.log(markdownTable(['operation', 'per second'], cases.map((c) => [c.name, formatRate(c.itemsPerSecond)])));
}

const suite: BenchSuite = {
  name: 'core',
  async run() {
    await crcTable();
    await framingTable();
    await hashTable();
    if (sink === 0.5) console.log(sink); // keeps results alive
  },
};
export default suite;
