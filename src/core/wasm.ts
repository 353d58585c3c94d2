// The one place that loads the WebAssembly core. Everything in src/core/ goes
// through here for memory access, so a view is never used after memory.grow
// detached its buffer. Its bytes come from ./wasm-bytes.js: a file read on Node,
// inline in the browser build.
import { wasmBytes } from './wasm-bytes.js';

export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  alloc(size: number): number;
  free(ptr: number): void;
  crc32c(ptr: number, len: number, crc: number): number;
  xxh64(ptr: number, len: number, seed: bigint): bigint;
  xxh64Init(state: number, seed: bigint): void;
  xxh64Stripes(state: number, ptr: number, len: number): void;
  xxh64Finish(state: number, seed: bigint, ptr: number, tailLen: number, totalLen: bigint): bigint;
  jumpHash(key: bigint, buckets: number): number;
  recordFrame(at: number, type: number, term: number, index: number, payloadLength: number): number;
  recordScan(ptr: number, len: number, maxPayload: number, out: number): number;
  ringPick(members: number, count: number, keyPtr: number, keyLen: number): number;
  ringPickHash(members: number, count: number, keyHash: bigint): number;
  ringPickN(members: number, count: number, keyPtr: number, keyLen: number, n: number, out: number, scores: number): number;
  ringPickNHash(members: number, count: number, keyHash: bigint, n: number, out: number, scores: number): number;
  negLogUnit(h: bigint): number;
}

function instantiate(): CoreExports {
  const module = new WebAssembly.Module(wasmBytes());
  const imports = {
    env: {
      abort(_message: number, _file: number, line: number, column: number): never {
        throw new Error(`zook: WebAssembly core aborted at ${line}:${column}`);
      },
    },
  };
  return new WebAssembly.Instance(module, imports).exports as unknown as CoreExports;
}

export const core: CoreExports = instantiate();

let bytesView = new Uint8Array(core.memory.buffer);
let dataView = new DataView(core.memory.buffer);
let scratchView = new Uint8Array(0);

/** The whole WASM memory as bytes; re-created after the memory grew. */
export function memoryBytes(): Uint8Array {
  if (bytesView.buffer !== core.memory.buffer) refreshViews();
  return bytesView;
}

/** The whole WASM memory as a DataView; re-created after the memory grew. */
export function memoryData(): DataView {
  if (dataView.buffer !== core.memory.buffer) refreshViews();
  return dataView;
}

function refreshViews(): void {
  bytesView = new Uint8Array(core.memory.buffer);
  dataView = new DataView(core.memory.buffer);
  scratchView = bytesView.subarray(scratchPtr, scratchPtr + SCRATCH_BYTES);
}

/** True when `bytes` already lives in WASM memory, so it can be used in place. */
export function inCoreMemory(bytes: Uint8Array): boolean {
  return bytes.buffer === core.memory.buffer;
}

/** Allocates a block in WASM memory; may grow (and so detach) the memory. */
export function allocCore(size: number): number {
  const ptr = core.alloc(size) >>> 0;
  if (ptr === 0) throw new RangeError(`zook: WebAssembly core could not allocate ${size} bytes`);
  return ptr;
}

export function freeCore(ptr: number): void {
  core.free(ptr);
}

/** Bytes of the fixed scratch block that inputs from JS memory are copied through. */
export const SCRATCH_BYTES = 64 * 1024;

/** A fixed scratch block, allocated once, for copying JS-side inputs into WASM memory in chunks. */
export const scratchPtr: number = allocCore(SCRATCH_BYTES);
refreshViews();

/** The scratch block as bytes (for encodeInto and the like); re-created after memory grew. */
export function scratchBytes(): Uint8Array {
  if (bytesView.buffer !== core.memory.buffer) refreshViews();
  return scratchView;
}

/**
 * Copies `bytes[start, start + length)` into the scratch block; `length` must be at
 * most SCRATCH_BYTES. Returns the pointer to the copy.
 */
export function copyToScratch(bytes: Uint8Array, start: number, length: number): number {
  const mem = memoryBytes();
  if (start === 0 && length === bytes.length) mem.set(bytes, scratchPtr);
  else mem.set(bytes.subarray(start, start + length), scratchPtr);
  return scratchPtr;
}
