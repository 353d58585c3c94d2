// The zook WebAssembly core: byte work on the hot path. It knows nothing of Raft,
// files or sockets; the host (src/core/) owns all memory above the static data and
// hands pointers in.
export { crc32c } from './crc32c';
export { xxh64, xxh64Init, xxh64Stripes, xxh64Finish } from './xxhash64';
export { jumpHash } from './jump';
export { recordFrame, recordScan } from './record';
export { ringPick, ringPickHash, ringPickN, ringPickNHash, negLogUnit } from './ring';

/** Allocates `size` bytes (16-byte aligned) from the module's heap; may grow memory. */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}
