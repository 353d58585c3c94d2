import { SCRATCH_BYTES, copyToScratch, core, inCoreMemory } from './wasm.js';

/**
 * CRC-32C (Castagnoli) of `bytes`, continuing from `crc` (the result of a previous
 * call over the bytes before these; 0 to start). Unsigned 32-bit result.
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  if (inCoreMemory(bytes)) return core.crc32c(bytes.byteOffset, bytes.length, crc) >>> 0;
  let c = crc;
  for (let start = 0; start < bytes.length; start += SCRATCH_BYTES) {
    const length = Math.min(SCRATCH_BYTES, bytes.length - start);
    c = core.crc32c(copyToScratch(bytes, start, length), length, c);
  }
  return c >>> 0;
}
