// A process to kill -9 while it saves snapshots: opens the store in argv[2], then
// saves snapshots with increasing indexes forever, printing `S <index>` once each
// save resolved (durable). Content is recomputable from the index (snapshotChunks).
// Run: node --import tsx test/storage/snapshot-crash-child.ts <dir>
import { SnapshotStore } from '../../src/storage/index.js';
import { snapshotChunks } from './support.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: snapshot-crash-child.ts <dir>');
const store = await SnapshotStore.open(dir, { keepSnapshots: 3 });
let index = ((await store.list())[0]?.index ?? 0) + 1;
for (;;) {
  await store.save({ index, term: 1, meta: Uint8Array.of(index & 0xff) }, snapshotChunks(index));
  process.stdout.write(`S ${index}\n`);
  index++;
}
