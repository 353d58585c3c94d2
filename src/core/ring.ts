// A weighted rendezvous ring of named members (why rendezvous: assembly/ring.ts).
// Lookups run in the WASM core over a member table kept in WASM memory.
import { hash64 } from './hash.js';
import { SCRATCH_BYTES, allocCore, core, freeCore, memoryBytes, memoryData, scratchBytes, scratchPtr } from './wasm.js';

const MEMBER_BYTES = 16;
export const DEFAULT_MAX_RING_MEMBERS = 65_536;
export const MAX_PICK_N = 64;

export interface RingMember {
  readonly name: string;
  readonly weight: number;
}

export interface MemberRingOptions {
  /** Upper bound on members; set() beyond it throws. */
  readonly maxMembers?: number;
}

const encoder = new TextEncoder();
/** The ring's WASM blocks, held apart from the ring so the finalizer can free them. */
interface RingBlocks {
  table: number;
  pickOut: number;
}

function freeBlocks(blocks: RingBlocks): void {
  if (blocks.table !== 0) freeCore(blocks.table);
  if (blocks.pickOut !== 0) freeCore(blocks.pickOut);
  blocks.table = 0;
  blocks.pickOut = 0;
}

const finalizer = new FinalizationRegistry<RingBlocks>(freeBlocks);

/**
 * Maps keys to named, weighted members so that a member's share of keys follows its
 * weight and a join or leave moves only the keys that member gains or loses.
 */
export class MemberRing {
  readonly maxMembers: number;
  private readonly names: string[] = [];
  private readonly weights: number[] = [];
  private readonly slots = new Map<string, number>();
  private readonly blocks: RingBlocks = { table: 0, pickOut: 0 };
  private capacity = 0;

  constructor(options: MemberRingOptions = {}) {
    this.maxMembers = options.maxMembers ?? DEFAULT_MAX_RING_MEMBERS;
    if (!Number.isInteger(this.maxMembers) || this.maxMembers < 1) throw new RangeError('maxMembers must be a positive integer');
    // Indices (u32) then scores (f64) for pickN, allocated once.
    this.blocks.pickOut = allocCore(MAX_PICK_N * 12);
    finalizer.register(this, this.blocks, this);
  }

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  members(): RingMember[] {
    return this.names.map((name, i) => ({ name, weight: this.weights[i] }));
  }

  /** Adds a member or changes its weight. Weight 0 keeps it listed but never picked. */
  set(name: string, weight = 1): void {
    if (!(Number.isFinite(weight) && weight >= 0)) throw new RangeError(`ring weight must be a finite number >= 0, got ${weight}`);
    let slot = this.slots.get(name);
    if (slot === undefined) {
      if (this.names.length >= this.maxMembers) throw new RangeError(`ring is full (maxMembers ${this.maxMembers})`);
      this.ensureCapacity(this.names.length + 1);
      slot = this.names.length;
      this.names.push(name);
      this.weights.push(weight);
      this.slots.set(name, slot);
    } else {
      this.weights[slot] = weight;
    }
    this.writeSlot(slot, hash64(encoder.encode(name)), weight);
  }

  delete(name: string): boolean {
    const slot = this.slots.get(name);
    if (slot === undefined) return false;
    const last = this.names.length - 1;
    if (slot !== last) {
      // Move the last member into the hole; order does not affect picks.
      const moved = this.names[last];
      this.names[slot] = moved;
      this.weights[slot] = this.weights[last];
      this.slots.set(moved, slot);
      const mem = memoryBytes();
      mem.copyWithin(this.blocks.table + slot * MEMBER_BYTES, this.blocks.table + last * MEMBER_BYTES, this.blocks.table + (last + 1) * MEMBER_BYTES);
    }
    this.names.pop();
    this.weights.pop();
    this.slots.delete(name);
    return true;
  }

  /** The member that owns `key`, or undefined when no member has a weight above 0. */
  pick(key: string | Uint8Array): string | undefined {
    if (this.names.length === 0) return undefined;
    const keyLength = this.stageKey(key);
    const slot = core.ringPick(this.blocks.table, this.names.length, scratchPtr, keyLength);
    return slot < 0 ? undefined : this.names[slot];
  }

  /** Up to `n` distinct members for `key`, best first (the first is pick(key)): for replicas. */
  pickN(key: string | Uint8Array, n: number): string[] {
    if (!Number.isInteger(n) || n < 0 || n > MAX_PICK_N) throw new RangeError(`pickN: n must be an integer in [0, ${MAX_PICK_N}]`);
    if (this.names.length === 0 || n === 0) return [];
    const keyLength = this.stageKey(key);
    const scores = this.blocks.pickOut + MAX_PICK_N * 4;
    const found = core.ringPickN(this.blocks.table, this.names.length, scratchPtr, keyLength, n, this.blocks.pickOut, scores);
    const view = memoryData();
    const picked: string[] = [];
    for (let i = 0; i < found; i++) picked.push(this.names[view.getUint32(this.blocks.pickOut + i * 4, true)]);
    return picked;
  }

  /** Frees the WASM memory now rather than when the ring is garbage-collected. */
  dispose(): void {
    finalizer.unregister(this);
    freeBlocks(this.blocks);
    this.capacity = 0;
    this.names.length = 0;
    this.weights.length = 0;
    this.slots.clear();
  }

  private stageKey(key: string | Uint8Array): number {
    if (typeof key === 'string') {
      const { read, written } = encoder.encodeInto(key, scratchBytes());
      if (read !== key.length) throw new RangeError('ring key over 64 KiB');
      return written;
    }
    if (key.length > SCRATCH_BYTES) throw new RangeError('ring key over 64 KiB');
    scratchBytes().set(key);
    return key.length;
  }

  private writeSlot(slot: number, nameHash: bigint, weight: number): void {
    const view = memoryData();
    const at = this.blocks.table + slot * MEMBER_BYTES;
    view.setBigUint64(at, nameHash, true);
    view.setFloat64(at + 8, weight > 0 ? 1 / weight : -1, true);
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    const capacity = Math.min(this.maxMembers, Math.max(16, this.capacity * 2, needed));
    const table = allocCore(capacity * MEMBER_BYTES);
    const old = this.blocks.table;
    if (old !== 0) {
      memoryBytes().copyWithin(table, old, old + this.names.length * MEMBER_BYTES);
      freeCore(old);
    }
    this.blocks.table = table;
    this.capacity = capacity;
  }
}
