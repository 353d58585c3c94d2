// Raft's hard state (term, vote, commit) in one small checksummed file, replaced
// atomically: write a temp file, fsync, rename, fsync the directory. A crash leaves
// the old or the new state, never a mix; a bad checksum on the file itself is real
// damage and stops start-up.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../core/index.js';
import { unlinkIfExists, writeFileAtomically } from './fs-durable.js';
import { EMPTY_HARD_STATE, StorageCorruptionError, checkIndex, type HardState } from './types.js';

export const HARD_STATE_FILE = 'hardstate';
const MAGIC = 0x5a4b4853; // "ZKHS"
const VERSION = 1;
/** magic u32, version u32, term u64, vote u64, commit u64, crc32c u32 (over the first 32 bytes). */
export const HARD_STATE_BYTES = 36;

export function encodeHardState(state: HardState): Uint8Array {
  checkIndex('term', state.term);
  checkIndex('vote', state.vote);
  checkIndex('commit', state.commit);
  const bytes = new Uint8Array(HARD_STATE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setBigUint64(8, BigInt(state.term), true);
  view.setBigUint64(16, BigInt(state.vote), true);
  view.setBigUint64(24, BigInt(state.commit), true);
  view.setUint32(32, crc32c(bytes.subarray(0, 32)), true);
  return bytes;
}

/** Decodes a hard-state file; throws StorageCorruptionError (naming `file`) when it does not check. */
export function decodeHardState(bytes: Uint8Array, file: string): HardState {
  if (bytes.length !== HARD_STATE_BYTES) throw new StorageCorruptionError(file, 0, `hard state is ${bytes.length} bytes, expected ${HARD_STATE_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(32, true) !== crc32c(bytes.subarray(0, 32))) throw new StorageCorruptionError(file, 32, 'hard state checksum mismatch');
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) throw new StorageCorruptionError(file, 0, 'not a zook hard-state file (magic or version)');
  return {
    term: Number(view.getBigUint64(8, true)),
    vote: Number(view.getBigUint64(16, true)),
    commit: Number(view.getBigUint64(24, true)),
  };
}

export class HardStateStore {
  readonly path: string;
  /** Saves run one at a time (they share the temp file); each waits for the previous. */
  private last: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {
    this.path = join(dir, HARD_STATE_FILE);
  }

  /** The saved state, or all zeros when none was ever saved. */
  async load(): Promise<HardState> {
    // A temp file is a save that did not reach its rename: never the current state.
    await unlinkIfExists(`${this.path}.tmp`);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_HARD_STATE;
      throw error;
    }
    return decodeHardState(bytes, this.path);
  }

  /** Resolves once the new state is durable (renamed into place and the directory fsynced). */
  save(state: HardState): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = encodeHardState(state);
    } catch (error) {
      return Promise.reject(error);
    }
    const next = this.last.catch(() => undefined).then(() => writeFileAtomically(this.path, bytes));
    this.last = next;
    return next;
  }
}
