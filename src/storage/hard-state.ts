// Raft's hard state (term, vote, commit) in one small file that a save rewrites in
// place, so a save never needs a free block: a server whose disk is full can
// still take a new term or cast a vote (and so keep following its leader).
//
// The file has two slots, each in its own 4 KiB block: magic, version, a sequence
// number, term, vote, commit and a CRC-32C. A save writes the slot not holding the
// newest state (sequence + 1) and fdatasyncs; load takes the valid slot with the
// higher sequence. A crash mid-save can tear only the slot being written, and the
// other still holds the previous state. Both slots invalid is real damage and stops
// start-up, naming the file. The file is created (temp, fsync, rename, fsync the
// directory) once; a 36-byte file of the first format is read and replaced by the
// first save.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../core/index.js';
import { unlinkIfExists, writeFileAtomically } from './fs-durable.js';
import { EMPTY_HARD_STATE, StorageCorruptionError, checkIndex, type HardState } from './types.js';

export const HARD_STATE_FILE = 'hardstate';
const MAGIC = 0x5a4b4853; // "ZKHS"
const SLOT_VERSION = 2;
const SLOT_BLOCK_BYTES = 4096;
/** Two slots, one block each. */
export const HARD_STATE_FILE_BYTES = 2 * SLOT_BLOCK_BYTES;
/** magic u32, version u32, seq u64, term u64, vote u64, commit u64, crc32c u32 (over the first 40 bytes). */
const SLOT_BYTES = 44;
/** The first format: magic u32, version 1 u32, term, vote, commit u64, crc32c u32 (over the first 32 bytes). */
const V1_BYTES = 36;

function encodeSlot(state: HardState, seq: number): Uint8Array {
  checkIndex('term', state.term);
  checkIndex('vote', state.vote);
  checkIndex('commit', state.commit);
  const bytes = new Uint8Array(SLOT_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, SLOT_VERSION, true);
  view.setBigUint64(8, BigInt(seq), true);
  view.setBigUint64(16, BigInt(state.term), true);
  view.setBigUint64(24, BigInt(state.vote), true);
  view.setBigUint64(32, BigInt(state.commit), true);
  view.setUint32(40, crc32c(bytes.subarray(0, 40)), true);
  return bytes;
}

/** Where the slot of sequence `seq` lives: odd and even sequences alternate blocks. */
function slotOffset(seq: number): number {
  return (seq % 2) * SLOT_BLOCK_BYTES;
}

interface Slot {
  readonly seq: number;
  readonly state: HardState;
}

/** A slot's state, 'empty' when never written (all zeros), or 'invalid'. */
function decodeSlot(bytes: Uint8Array): Slot | 'empty' | 'invalid' {
  if (bytes.every((b) => b === 0)) return 'empty';
  const view = new DataView(bytes.buffer, bytes.byteOffset, SLOT_BYTES);
  if (view.getUint32(40, true) !== crc32c(bytes.subarray(0, 40))) return 'invalid';
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== SLOT_VERSION) return 'invalid';
  return {
    seq: Number(view.getBigUint64(8, true)),
    state: { term: Number(view.getBigUint64(16, true)), vote: Number(view.getBigUint64(24, true)), commit: Number(view.getBigUint64(32, true)) },
  };
}

function decodeV1(bytes: Uint8Array, file: string): HardState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(32, true) !== crc32c(bytes.subarray(0, 32))) throw new StorageCorruptionError(file, 32, 'hard state checksum mismatch');
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== 1) throw new StorageCorruptionError(file, 0, 'not a zook hard-state file (magic or version)');
  return { term: Number(view.getBigUint64(8, true)), vote: Number(view.getBigUint64(16, true)), commit: Number(view.getBigUint64(24, true)) };
}

/** The newest valid slot of a two-slot file, or null when neither was ever written. */
function newestSlot(bytes: Uint8Array, file: string): Slot | null {
  if (bytes.length !== HARD_STATE_FILE_BYTES) throw new StorageCorruptionError(file, 0, `hard state is ${bytes.length} bytes, expected ${HARD_STATE_FILE_BYTES} (or ${V1_BYTES})`);
  const a = decodeSlot(bytes.subarray(0, SLOT_BYTES));
  const b = decodeSlot(bytes.subarray(SLOT_BLOCK_BYTES, SLOT_BLOCK_BYTES + SLOT_BYTES));
  const valid = [a, b].filter((s): s is Slot => typeof s === 'object');
  if (valid.length === 0) {
    if (a === 'empty' && b === 'empty') return null;
    throw new StorageCorruptionError(file, a === 'invalid' ? 0 : SLOT_BLOCK_BYTES, 'hard state checksum mismatch in both slots');
  }
  return valid.reduce((x, y) => (y.seq > x.seq ? y : x));
}

/** Decodes a hard-state file (either format); throws StorageCorruptionError (naming `file`) when it does not check. */
export function decodeHardState(bytes: Uint8Array, file: string): HardState {
  if (bytes.length === V1_BYTES) return decodeV1(bytes, file);
  return newestSlot(bytes, file)?.state ?? EMPTY_HARD_STATE;
}

export class HardStateStore {
  readonly path: string;
  /** Saves run one at a time (they alternate slots); each waits for the previous. */
  private last: Promise<void> = Promise.resolve();
  /** Sequence of the newest slot on disk; null until the two-slot file exists. */
  private seq: number | null = null;
  private loaded = false;

  constructor(readonly dir: string) {
    this.path = join(dir, HARD_STATE_FILE);
  }

  /** The saved state, or all zeros when none was ever saved. */
  async load(): Promise<HardState> {
    // A temp file is a creation that did not reach its rename: never the current state.
    await unlinkIfExists(`${this.path}.tmp`);
    this.loaded = true;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_HARD_STATE;
      throw error;
    }
    if (bytes.length === V1_BYTES) return decodeV1(bytes, this.path);
    const newest = newestSlot(bytes, this.path);
    this.seq = newest?.seq ?? 0;
    return newest?.state ?? EMPTY_HARD_STATE;
  }

  /** Resolves once the new state is durable. */
  save(state: HardState): Promise<void> {
    let next: Promise<void>;
    try {
      encodeSlot(state, 0); // validates before anything is queued
      next = this.last.catch(() => undefined).then(() => this.saveNow(state));
    } catch (error) {
      return Promise.reject(error);
    }
    this.last = next;
    return next;
  }

  private async saveNow(state: HardState): Promise<void> {
    if (!this.loaded) await this.load();
    if (this.seq === null) {
      // First save here (or the first-format file): create the two-slot file whole.
      const file = new Uint8Array(HARD_STATE_FILE_BYTES);
      file.set(encodeSlot(state, 1), slotOffset(1));
      await writeFileAtomically(this.path, file);
      this.seq = 1;
      return;
    }
    const seq = this.seq + 1;
    const handle = await open(this.path, 'r+');
    try {
      const slot = encodeSlot(state, seq);
      const at = slotOffset(seq);
      let done = 0;
      while (done < slot.length) done += (await handle.write(slot, done, slot.length - done, at + done)).bytesWritten;
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.seq = seq;
  }
}
