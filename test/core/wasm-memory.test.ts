import { expect, test } from 'vitest';
import { MemberRing, RecordBatchEncoder, crc32c, scanRecords } from '../../src/core/index.js';
import { crc32cReference } from '../../src/core/reference.js';
import { allocCore, core, freeCore } from '../../src/core/wasm.js';

test('the core keeps working after WASM memory grows (views are re-created, not reused detached)', () => {
  const ring = new MemberRing();
  ring.set('a');
  ring.set('b');
  const before = ring.pick('key');
  const encoder = new RecordBatchEncoder(1024);
  const pagesBefore = core.memory.buffer.byteLength;
  const big = allocCore(64 * 1024 * 1024); // forces memory.grow
  expect(core.memory.buffer.byteLength).toBeGreaterThan(pagesBefore);
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff);
  expect(crc32c(bytes)).toBe(crc32cReference(bytes));
  expect(ring.pick('key')).toBe(before);
  expect(encoder.add(1, 1, 1, bytes.subarray(0, 100))).toBe(true);
  expect(scanRecords(encoder.bytes())).toEqual({ count: 1, validBytes: 132, status: 'clean' });
  freeCore(big);
  encoder.dispose();
  ring.dispose();
});
