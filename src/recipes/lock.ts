// A fair, queue-ordered distributed lock (Curator's InterProcessMutex without
// re-entrance): each contender creates a protected ephemeral sequential node and
// waits on its predecessor only. Also the engine of the read/write lock.
import { type Data, type ZookClient } from '../client/index.js';
import { TypedEmitter } from './emitter.js';
import { HeldNode, type HoldEvents, type LossReason } from './held-node.js';
import { firstInLine, waitForTurn, type TurnPolicy } from './ordered-wait.js';
import { checkPath, deleteIfPresent } from './paths.js';
import { createProtected } from './protected-create.js';
import { deadlineOf, type WaitOptions } from './wake.js';

/** 'suspended': connection lost while held, do not act as holder until 'reconnected' (or 'lost'). */
export type LockState = 'idle' | 'acquiring' | 'held' | 'suspended' | 'lost';
export type LockEvents = HoldEvents;
export type { LossReason };

export interface LockOptions {
  /** Stored in the lock node (for operators: who holds it). Default empty. */
  readonly data?: Data;
}

/** A lock over the children of `dir` whose order is decided by `policy`; Lock and ReadWriteLock's halves are these. */
export class OrderedLock extends TypedEmitter<LockEvents> {
  readonly path: string;
  private acquiring = false;
  private held: HeldNode | undefined;
  private lastLoss: LossReason | undefined;

  constructor(
    protected readonly zk: ZookClient,
    path: string,
    private readonly prefix: string,
    private readonly policy: TurnPolicy,
    private readonly options: LockOptions = {},
  ) {
    super();
    this.path = checkPath(path);
  }

  get state(): LockState {
    if (this.acquiring) return 'acquiring';
    if (this.held !== undefined) return this.held.state === 'held' ? 'held' : this.held.state === 'suspended' ? 'suspended' : 'idle';
    return this.lastLoss !== undefined ? 'lost' : 'idle';
  }

  /** True only while the lock is held and the connection is up (not while suspended). */
  isHeld(): boolean {
    return this.held?.state === 'held';
  }

  /** Our lock node's path while we hold or wait for the lock. */
  get nodePath(): string | undefined {
    return this.held?.path;
  }

  /**
   * Waits for the lock. Resolves true once held, false if `timeoutMs` passed first
   * (our node is removed again). Rejects with the signal's reason on abort, or with
   * the client's error (SessionExpired, ...), in both cases leaving no node behind.
   */
  async acquire(options: WaitOptions = {}): Promise<boolean> {
    if (this.acquiring || this.held !== undefined) throw new Error(`lock ${this.path} is already held or being acquired by this object (it is not re-entrant)`);
    const deadlineMs = deadlineOf(options);
    options.signal?.throwIfAborted();
    this.acquiring = true;
    let nodePath: string | undefined;
    try {
      const node = await createProtected(this.zk, this.path, this.prefix, this.options.data ?? '', 'EPHEMERAL_SEQUENTIAL');
      nodePath = node.path;
      const through = await waitForTurn(this.zk, this.path, node.name, this.policy, deadlineMs, options.signal);
      if (!through) {
        await deleteIfPresent(this.zk, node.path);
        return false;
      }
      this.lastLoss = undefined;
      this.held = new HeldNode(this.zk, node.path);
      this.held.on('suspended', () => this.emit('suspended'));
      this.held.on('reconnected', () => this.emit('reconnected'));
      this.held.on('lost', (reason) => {
        this.held = undefined;
        this.lastLoss = reason;
        this.emit('lost', reason);
      });
      return true;
    } catch (error) {
      if (nodePath !== undefined) await deleteIfPresent(this.zk, nodePath).catch(() => undefined);
      throw error;
    } finally {
      this.acquiring = false;
    }
  }

  /** Releases the lock (deletes our node). Does nothing when not held; after a loss it only clears the state. */
  async release(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    this.lastLoss = undefined;
    if (held !== undefined) await held.release();
  }
}

/** A fair mutual-exclusion lock at `path` (created if missing). */
export class Lock extends OrderedLock {
  constructor(zk: ZookClient, path: string, options: LockOptions = {}) {
    super(zk, path, 'lock-', firstInLine, options);
  }
}
