// Log record framing and verification (layout documented in assembly/record.ts and
// README). Framing writes straight into a block of WASM memory, so the batch can be
// handed to fs.write / writev as it is, without another copy.
import { allocCore, core, freeCore, inCoreMemory, memoryBytes, memoryData } from './wasm.js';

export const RECORD_HEADER_BYTES = 32;
/** Default bound on one record's payload; a header claiming more is treated as damage. */
export const DEFAULT_MAX_RECORD_PAYLOAD_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Largest buffer scanRecords accepts (it must fit in 32-bit WASM memory). */
export const MAX_SCAN_BYTES = 1024 * 1024 * 1024;

export type ScanStatus = 'clean' | 'torn' | 'corrupt';
const STATUS: readonly ScanStatus[] = ['clean', 'torn', 'corrupt'];

export interface ScanResult {
  /** Valid records from the start of the buffer. */
  readonly count: number;
  /** Offset where the first invalid record (or the zero fill) starts: the bytes to keep. */
  readonly validBytes: number;
  /**
   * 'clean': ends on a record boundary or only zeros follow. 'torn': a damaged or
   * incomplete last record with no valid record after it (what a crash mid-write
   * leaves: truncate at validBytes). 'corrupt': a damaged record followed by a whole
   * valid record (truncating would drop it: stop and ask an operator).
   */
  readonly status: ScanStatus;
}

export interface RecordView {
  readonly offset: number;
  readonly type: number;
  readonly term: number;
  readonly index: number;
  readonly payload: Uint8Array;
}

function checkRecordFields(type: number, term: number, index: number): void {
  if (!Number.isInteger(type) || type < 1 || type > 255) throw new RangeError(`record type must be 1..255, got ${type}`);
  if (!Number.isSafeInteger(term) || term < 0) throw new RangeError(`record term must be a safe non-negative integer, got ${term}`);
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`record index must be a safe non-negative integer, got ${index}`);
}

/**
 * Frames a batch of records into one contiguous block of WASM memory of at most
 * `maxBatchBytes`. Reuse it: `reset()`, `add()` records, hand `bytes()` to the file.
 */
export class RecordBatchEncoder {
  readonly maxBatchBytes: number;
  private block: number;
  private used = 0;
  private records = 0;

  constructor(maxBatchBytes = DEFAULT_MAX_BATCH_BYTES) {
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < RECORD_HEADER_BYTES || maxBatchBytes > MAX_SCAN_BYTES) {
      throw new RangeError(`maxBatchBytes must be an integer in [${RECORD_HEADER_BYTES}, ${MAX_SCAN_BYTES}]`);
    }
    this.maxBatchBytes = maxBatchBytes;
    this.block = allocCore(maxBatchBytes);
  }

  get recordCount(): number {
    return this.records;
  }

  get byteLength(): number {
    return this.used;
  }

  /** Bytes still free in the batch; a record needs RECORD_HEADER_BYTES + its payload. */
  get remainingBytes(): number {
    return this.maxBatchBytes - this.used;
  }

  reset(): void {
    this.used = 0;
    this.records = 0;
  }

  /** Appends one record; returns false, adding nothing, when it does not fit in the batch. */
  add(type: number, term: number, index: number, payload: Uint8Array): boolean {
    if (this.block === 0) throw new Error('RecordBatchEncoder used after dispose()');
    checkRecordFields(type, term, index);
    const size = RECORD_HEADER_BYTES + payload.length;
    if (size > this.maxBatchBytes - this.used) return false;
    const at = this.block + this.used;
    memoryBytes().set(payload, at + RECORD_HEADER_BYTES);
    core.recordFrame(at, type, term, index, payload.length);
    this.used += size;
    this.records++;
    return true;
  }

  /**
   * The framed batch, a view into WASM memory: write it out before the next add(),
   * reset() or any other use of the core (which may grow memory and detach it).
   */
  bytes(): Uint8Array {
    return memoryBytes().subarray(this.block, this.block + this.used);
  }

  dispose(): void {
    if (this.block !== 0) freeCore(this.block);
    this.block = 0;
  }
}

const scanOut: number = allocCore(16);

/** Verifies a buffer of records; see ScanResult for how damage is classified. */
export function scanRecords(bytes: Uint8Array, maxPayloadBytes = DEFAULT_MAX_RECORD_PAYLOAD_BYTES): ScanResult {
  if (bytes.length > MAX_SCAN_BYTES) throw new RangeError(`scanRecords: buffer over ${MAX_SCAN_BYTES} bytes`);
  if (inCoreMemory(bytes)) return scanInPlace(bytes.byteOffset, bytes.length, maxPayloadBytes);
  const block = allocCore(Math.max(bytes.length, 1));
  try {
    memoryBytes().set(bytes, block);
    return scanInPlace(block, bytes.length, maxPayloadBytes);
  } finally {
    freeCore(block);
  }
}

function scanInPlace(ptr: number, length: number, maxPayloadBytes: number): ScanResult {
  core.recordScan(ptr, length, maxPayloadBytes, scanOut);
  const view = memoryData();
  return {
    count: view.getUint32(scanOut, true),
    status: STATUS[view.getUint32(scanOut + 4, true)],
    validBytes: view.getUint32(scanOut + 8, true),
  };
}

/**
 * The records in `bytes[0, validBytes)`, which scanRecords has verified. Payloads are
 * views into `bytes`, not copies.
 */
export function* readRecords(bytes: Uint8Array, validBytes: number): Generator<RecordView> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < validBytes) {
    const payloadLength = view.getUint32(offset, true);
    const payloadStart = offset + RECORD_HEADER_BYTES;
    yield {
      offset,
      type: view.getUint8(offset + 4),
      term: Number(view.getBigUint64(offset + 8, true)),
      index: Number(view.getBigUint64(offset + 16, true)),
      payload: bytes.subarray(payloadStart, payloadStart + payloadLength),
    };
    offset = payloadStart + payloadLength;
  }
}
