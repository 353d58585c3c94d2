// A small synchronous host for unit tests of the consensus core: persists
// every Ready at once, delivers messages in order through an optional filter.
import {
  type Entry,
  type Message,
  type PersistedState,
  RaftNode,
  type RaftLimits,
  type ReadState,
  type Ready,
  Role,
  bootstrapState,
} from '../../src/consensus/index.js';
import type { BrokenVariant } from '../../src/consensus/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { MemoryStorage } from '../sim/storage.js';

export interface HarnessOptions {
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly limits?: Partial<RaftLimits>;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly seed?: number;
  readonly variant?: BrokenVariant;
  /** The core's async storage mode: entries are written after advance(), reported with persisted(). */
  readonly asyncStorageWrites?: boolean;
}

export class Harness {
  readonly nodes = new Map<number, RaftNode>();
  readonly storage = new Map<number, MemoryStorage>();
  readonly applied = new Map<number, Entry[]>();
  readonly readStates = new Map<number, ReadState[]>();
  /** Every message sent, in order (for assertions on traffic). */
  readonly sent: Message[] = [];
  /** Return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  /** Async storage mode: entry writes handed out but not yet durable, per node, in order. */
  readonly diskQueue = new Map<number, (readonly Entry[])[]>();
  /** Async storage mode: nodes whose disk writes settle() leaves outstanding (a slow disk). */
  readonly slowDisks = new Set<number>();
  private readonly rng: SeededRandom;

  constructor(
    voters: readonly number[],
    readonly options: HarnessOptions = {},
  ) {
    this.rng = new SeededRandom(options.seed ?? 1);
    for (const id of voters) this.add(id, bootstrapState(voters));
    this.settle();
  }

  /** Creates (or restarts) a node from a persisted state. */
  add(id: number, state: PersistedState | null): RaftNode {
    const storage = state === null ? (this.storage.get(id) ?? new MemoryStorage()) : new MemoryStorage(state);
    this.storage.set(id, storage);
    const node = new RaftNode(
      {
        id,
        random: new SeededRandom(this.rng.nextUint32()),
        electionTicks: this.options.electionTicks ?? 10,
        heartbeatTicks: this.options.heartbeatTicks ?? 1,
        limits: this.options.limits,
        preVote: this.options.preVote,
        checkQuorum: this.options.checkQuorum,
        unsafeVariant: this.options.variant,
        asyncStorageWrites: this.options.asyncStorageWrites,
      },
      storage.load(),
    );
    this.nodes.set(id, node);
    this.diskQueue.set(id, []);
    if (!this.applied.has(id)) this.applied.set(id, []);
    if (!this.readStates.has(id)) this.readStates.set(id, []);
    return node;
  }

  /** Restarts a node from what it persisted (everything unpersisted is lost). */
  restart(id: number): RaftNode {
    this.applied.set(id, []);
    return this.add(id, null);
  }

  node(id: number): RaftNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** One host cycle: persist, collect messages, apply, advance. Returns the Ready or null. */
  cycle(id: number): Ready | null {
    const n = this.node(id);
    if (!n.hasReady()) return null;
    const rd = n.ready();
    const s = this.storage.get(id) as MemoryStorage;
    if (rd.snapshot !== null) s.installSnapshot(rd.snapshot);
    if (this.options.asyncStorageWrites !== true) s.append(rd.entries);
    else if (rd.entries.length > 0) (this.diskQueue.get(id) as (readonly Entry[])[]).push(rd.entries);
    if (rd.hardState !== null) s.setHardState(rd.hardState);
    for (const m of rd.messages) this.sent.push(m);
    (this.applied.get(id) as Entry[]).push(...rd.committedEntries);
    (this.readStates.get(id) as ReadState[]).push(...rd.readStates);
    n.advance();
    return rd;
  }

  /** Async storage mode: completes node id's outstanding entry writes, in order, and tells its core. */
  completeWrites(id: number): boolean {
    const queue = this.diskQueue.get(id) as (readonly Entry[])[];
    if (queue.length === 0) return false;
    const s = this.storage.get(id) as MemoryStorage;
    for (const entries of queue.splice(0)) {
      s.append(entries);
      const last = entries[entries.length - 1];
      this.node(id).persisted(last.index, last.term);
    }
    return true;
  }

  /** Runs host cycles and delivers messages until nothing moves. */
  settle(maxRounds = 1000): void {
    let delivered = this.sent.length;
    for (let round = 0; round < maxRounds; round++) {
      let progressed = false;
      for (const id of this.nodes.keys()) while (this.cycle(id) !== null) progressed = true;
      for (const id of this.nodes.keys()) if (!this.slowDisks.has(id) && this.completeWrites(id)) progressed = true;
      while (delivered < this.sent.length) {
        const m = this.sent[delivered++];
        progressed = true;
        const to = this.nodes.get(m.to);
        if (to !== undefined && this.filter(m)) to.step(m);
      }
      if (!progressed) return;
    }
    throw new Error('harness did not settle');
  }

  tick(id: number, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.node(id).tick();
      this.settle();
    }
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const n of this.nodes.values()) n.tick();
      this.settle();
    }
  }

  /** Makes id campaign and settles. */
  elect(id: number): void {
    this.node(id).campaign();
    this.settle();
  }

  leaders(): number[] {
    return [...this.nodes.values()].filter((n) => n.currentRole === Role.Leader).map((n) => n.id);
  }

  /** Cuts every link to and from the given nodes. */
  isolate(...ids: number[]): void {
    const cut = new Set(ids);
    this.filter = (m) => !cut.has(m.from) && !cut.has(m.to);
  }

  heal(): void {
    this.filter = () => true;
  }

  appliedData(id: number): string[] {
    return (this.applied.get(id) ?? []).filter((e) => e.type === 1).map((e) => new TextDecoder().decode(e.data));
  }

  sentSince(mark: number, pred: (m: Message) => boolean): Message[] {
    return this.sent.slice(mark).filter(pred);
  }
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
