// A double barrier (Curator's DistributedDoubleBarrier, ZooKeeper's recipe):
// enter() blocks until `memberCount` participants have entered, then all proceed;
// leave() blocks until every participant has left. Each participant is an
// ephemeral node, so one whose session ends counts as gone.
import { randomUUID } from './uuid.js';
import { isZookError, type ZookClient } from '../client/index.js';
import { checkPath, deleteIfPresent, ensurePath, joinPath, withLossRetry } from './paths.js';
import { deadlineOf, Wake, type WaitOptions } from './wake.js';

const READY = 'ready';

export interface DoubleBarrierOptions {
  /** This participant's node name under the barrier; default a random UUID. */
  readonly id?: string;
}

export class DoubleBarrier {
  readonly path: string;
  readonly id: string;
  private readonly ourPath: string;
  private readonly readyPath: string;

  constructor(
    private readonly zk: ZookClient,
    path: string,
    readonly memberCount: number,
    options: DoubleBarrierOptions = {},
  ) {
    if (!Number.isInteger(memberCount) || memberCount < 1) throw new RangeError(`memberCount must be a positive integer, got ${memberCount}`);
    this.path = checkPath(path);
    this.id = options.id ?? randomUUID();
    if (this.id === READY || this.id.includes('/')) throw new TypeError(`bad participant id "${this.id}"`);
    this.ourPath = joinPath(this.path, this.id);
    this.readyPath = joinPath(this.path, READY);
  }

  /**
   * Joins and waits until `memberCount` participants are in. Resolves true then,
   * false at the timeout (and our node is removed again).
   */
  async enter(options: WaitOptions = {}): Promise<boolean> {
    const deadlineMs = deadlineOf(options);
    await ensurePath(this.zk, this.path);
    // Watch for 'ready' before joining, so its creation cannot slip past us.
    let wake = new Wake();
    const readyAlready = (await withLossRetry(() => this.zk.exists(this.readyPath, { watch: wake.watcher }))) !== null;
    try {
      await withLossRetry(() => this.zk.create(this.ourPath, '', { mode: 'EPHEMERAL' }));
    } catch (error) {
      // A retried create after ConnectionLoss finds the node our first attempt made.
      if (!isZookError(error, 'NodeExists')) throw error;
      const stat = await withLossRetry(() => this.zk.exists(this.ourPath));
      if (stat === null || stat.ephemeralOwner !== this.zk.sessionId) throw error;
    }
    if (readyAlready) return true;
    try {
      const present = (await withLossRetry(() => this.zk.getChildren(this.path))).filter((n) => n !== READY);
      if (present.length >= this.memberCount) {
        try {
          await withLossRetry(() => this.zk.create(this.readyPath, ''));
        } catch (error) {
          if (!isZookError(error, 'NodeExists')) throw error;
        }
        return true;
      }
      for (;;) {
        if ((await wake.wait(deadlineMs, options.signal)) === 'timeout') {
          await deleteIfPresent(this.zk, this.ourPath);
          return false;
        }
        wake = new Wake();
        if ((await withLossRetry(() => this.zk.exists(this.readyPath, { watch: wake.watcher }))) !== null) return true;
      }
    } catch (error) {
      await deleteIfPresent(this.zk, this.ourPath).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Leaves and waits until every participant has left. Resolves true then (the
   * last one out removes 'ready', so the path can be used for another round),
   * false at the timeout. ZooKeeper's recipe, without a herd: the lowest
   * participant waits for the highest to go, every other one leaves at once and
   * waits only for the lowest, which leaves last.
   */
  async leave(options: WaitOptions = {}): Promise<boolean> {
    const deadlineMs = deadlineOf(options);
    for (;;) {
      options.signal?.throwIfAborted();
      let present: string[];
      try {
        present = (await withLossRetry(() => this.zk.getChildren(this.path))).filter((n) => n !== READY).sort();
      } catch (error) {
        if (isZookError(error, 'NoNode')) return true;
        throw error;
      }
      const ourIndex = present.indexOf(this.id);
      if (present.length === 0 || (present.length === 1 && ourIndex === 0)) {
        await deleteIfPresent(this.zk, this.ourPath);
        await deleteIfPresent(this.zk, this.readyPath);
        return true;
      }
      let watched: string;
      if (ourIndex === 0) {
        watched = present[present.length - 1];
      } else {
        if (ourIndex > 0) await deleteIfPresent(this.zk, this.ourPath);
        watched = present[0];
      }
      const wake = new Wake();
      try {
        // getData, not exists: on a node that is already gone it leaves no watch behind.
        await withLossRetry(() => this.zk.getData(joinPath(this.path, watched), { watch: wake.watcher }));
      } catch (error) {
        if (isZookError(error, 'NoNode')) continue;
        throw error;
      }
      if ((await wake.wait(deadlineMs, options.signal)) === 'timeout') return false;
    }
  }
}
