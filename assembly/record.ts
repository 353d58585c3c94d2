// Log record framing for the WAL. One record, little-endian, 32-byte header:
//
//   offset size field
//   0      4    payloadLength  u32, bytes of payload after the header
//   4      1    type           u8, 1..255 (0 never written: zeroed space is "no record")
//   5      3    reserved       zero
//   8      8    term           u64
//   16     8    index          u64
//   24     4    crc            CRC-32C over header bytes [0, 24) followed by the payload
//   28     4    headerCrc      CRC-32C over header bytes [0, 28)
//   32     n    payload
//
// The header carries its own CRC so that a damaged length is never trusted: without
// it, a flipped bit in the length of a middle record would make everything after it
// look like one record that runs past the end, i.e. like a harmless torn tail.
import { crc32c } from './crc32c';

export const RECORD_HEADER_BYTES: usize = 32;

// How a scan ends. A torn tail is what a crash in the middle of a write leaves: the
// damage is confined to the last record, so truncating there loses nothing that was
// ever whole on disk after it. Corruption is damage with a whole, valid record after
// it: truncating would drop that record, so the host must stop and ask an operator.
export const SCAN_CLEAN: u32 = 0; // ends on a record boundary, or only zeros follow
export const SCAN_TORN: u32 = 1; // a damaged or incomplete last record, and no valid record after it
export const SCAN_CORRUPT: u32 = 2; // a damaged record followed by a valid record

/** Writes the header of a record whose payload the host already placed at `at + 32`; returns the next record's offset. */
export function recordFrame(at: usize, type: u32, term: f64, index: f64, payloadLength: u32): usize {
  store<u32>(at, payloadLength);
  store<u32>(at, type & 0xff, 4);
  store<u64>(at, <u64>term, 8);
  store<u64>(at, <u64>index, 16);
  store<u32>(at, crc32c(at + RECORD_HEADER_BYTES, payloadLength, crc32c(at, 24, 0)), 24);
  store<u32>(at, crc32c(at, 28, 0), 28);
  return at + RECORD_HEADER_BYTES + payloadLength;
}

function allZero(p: usize, n: usize): bool {
  while (n >= 64) {
    const acc = v128.or(v128.or(v128.load(p), v128.load(p, 16)), v128.or(v128.load(p, 32), v128.load(p, 48)));
    if (v128.any_true(acc)) return false;
    p += 64;
    n -= 64;
  }
  while (n > 0) {
    if (load<u8>(p) != 0) return false;
    p++;
    n--;
  }
  return true;
}

function headerValid(at: usize, maxPayload: u32): bool {
  if (load<u32>(at, 28) != crc32c(at, 28, 0)) return false;
  if (load<u8>(at, 4) == 0) return false;
  if ((load<u32>(at, 4) & 0xffffff00) != 0) return false;
  return load<u32>(at) <= maxPayload;
}

/** Bytes of the whole valid record at `at` (header and payload CRCs check), or 0. */
function validRecordSize(at: usize, rest: usize, maxPayload: u32): usize {
  if (rest < RECORD_HEADER_BYTES || !headerValid(at, maxPayload)) return 0;
  const payloadLength = <usize>load<u32>(at);
  const size = RECORD_HEADER_BYTES + payloadLength;
  if (size > rest) return 0;
  if (crc32c(at + RECORD_HEADER_BYTES, payloadLength, crc32c(at, 24, 0)) != load<u32>(at, 24)) return 0;
  return size;
}

/** The address just past the last non-zero byte in [p, end), or p when all are zero. */
function nonZeroEnd(p: usize, end: usize): usize {
  while (end > p && load<u8>(end - 1) == 0) end--;
  return end;
}

/**
 * Whether a whole valid record starts anywhere in [from, end): tries every offset,
 * so it is slow (about 28 bytes of CRC an offset), but it runs only after damage is
 * found. A record's type byte is non-zero, so none starts in the zero fill.
 */
function validRecordAfter(from: usize, end: usize, maxPayload: u32): bool {
  const dataEnd = nonZeroEnd(from, end);
  for (let at = from; at < dataEnd; at++) {
    if (validRecordSize(at, end - at, maxPayload) != 0) return true;
  }
  return false;
}

/**
 * Verifies the records in `len` bytes at `ptr`. Writes to `out`: u32 count of valid
 * records, u32 status (SCAN_*), u32 offset where the first invalid record starts
 * (or where the zeros start). Returns the status.
 */
export function recordScan(ptr: usize, len: usize, maxPayload: u32, out: usize): u32 {
  const end = ptr + len;
  let at: usize = 0;
  let count: u32 = 0;
  let status = SCAN_CLEAN;
  while (at < len) {
    const p = ptr + at;
    const size = validRecordSize(p, len - at, maxPayload);
    if (size != 0) {
      at += size;
      count++;
      continue;
    }
    if (allZero(p, len - at)) break; // the zero fill of a preallocated segment
    // Damage. A header that checks can be trusted for where the record ends; an
    // untrusted one may hide a valid record anywhere after its first byte.
    let searchFrom = p + 1;
    if (len - at >= RECORD_HEADER_BYTES && headerValid(p, maxPayload)) {
      searchFrom = p + RECORD_HEADER_BYTES + <usize>load<u32>(p);
    }
    status = validRecordAfter(searchFrom, end, maxPayload) ? SCAN_CORRUPT : SCAN_TORN;
    break;
  }
  store<u32>(out, count);
  store<u32>(out, status, 4);
  store<u32>(out, <u32>at, 8);
  return status;
}
