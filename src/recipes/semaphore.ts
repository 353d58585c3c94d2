// A counting semaphore of `maxLeases` leases (Curator's InterProcessSemaphoreV2):
// contenders queue on a fair Lock at <path>/locks; the one holding it creates its
// lease under <path>/leases and, if too many leases exist, waits for that child
// list to shrink. Only the lock holder ever watches the leases, so a release wakes
// one waiter, not every one.
import type { Data, ZookClient } from '../client/index.js';
import { TypedEmitter } from './emitter.js';
import { HeldNode, type HoldEvents, type HoldState } from './held-node.js';
import { Lock } from './lock.js';
import { checkPath, deleteIfPresent, joinPath, withLossRetry } from './paths.js';
import { createProtected } from './protected-create.js';
import { deadlineOf, Wake, type WaitOptions } from './wake.js';

export interface SemaphoreOptions {
  /** Stored in each lease node. */
  readonly data?: Data;
}

/** One lease: hold it until release(); events as for a lock ('suspended', 'reconnected', 'lost'). */
export class Lease extends TypedEmitter<HoldEvents> {
  constructor(private readonly node: HeldNode) {
    super();
    node.on('suspended', () => this.emit('suspended'));
    node.on('reconnected', () => this.emit('reconnected'));
    node.on('lost', (reason) => this.emit('lost', reason));
  }
  get path(): string {
    return this.node.path;
  }
  get state(): HoldState {
    return this.node.state;
  }
  /** True only while held with the connection up. */
  isHeld(): boolean {
    return this.node.state === 'held';
  }
  release(): Promise<void> {
    return this.node.release();
  }
}

export class Semaphore {
  readonly path: string;
  private readonly leasesPath: string;
  private readonly locksPath: string;

  constructor(
    private readonly zk: ZookClient,
    path: string,
    readonly maxLeases: number,
    private readonly options: SemaphoreOptions = {},
  ) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new RangeError(`maxLeases must be a positive integer, got ${maxLeases}`);
    this.path = checkPath(path);
    this.leasesPath = joinPath(path, 'leases');
    this.locksPath = joinPath(path, 'locks');
  }

  /** A lease, or null if none came within `timeoutMs`. Rejects with the signal's reason on abort, leaving no node behind. */
  async acquire(options: WaitOptions = {}): Promise<Lease | null> {
    const deadlineMs = deadlineOf(options);
    // A Lock object per call: concurrent acquire() calls on one Semaphore queue like separate clients.
    const lock = new Lock(this.zk, this.locksPath);
    const remainingMs = (): number | undefined => (Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : undefined);
    const timeoutMs = remainingMs();
    if (!(await lock.acquire({ ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(options.signal ? { signal: options.signal } : {}) }))) return null;
    let leasePath: string | undefined;
    try {
      const node = await createProtected(this.zk, this.leasesPath, 'lease-', this.options.data ?? '', 'EPHEMERAL_SEQUENTIAL');
      leasePath = node.path;
      for (;;) {
        options.signal?.throwIfAborted();
        const wake = new Wake();
        const leases = await withLossRetry(() => this.zk.getChildren(this.leasesPath, { watch: wake.watcher }));
        if (!leases.includes(node.name)) throw new Error(`semaphore ${this.path}: our lease node vanished (session ended?)`);
        if (leases.length <= this.maxLeases) {
          leasePath = undefined;
          return new Lease(new HeldNode(this.zk, node.path));
        }
        if ((await wake.wait(deadlineMs, options.signal)) === 'timeout') return null;
      }
    } finally {
      if (leasePath !== undefined) await deleteIfPresent(this.zk, leasePath).catch(() => undefined);
      await lock.release();
    }
  }
}
