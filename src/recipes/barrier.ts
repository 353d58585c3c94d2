// A barrier (Curator's DistributedBarrier): while the node at `path` exists,
// waitOnBarrier() blocks; removeBarrier() releases every waiter at once (they all
// watch the one node, which is the point: they should all go together).
import { isZookError, type ZookClient } from '../client/index.js';
import { checkPath, deleteIfPresent, ensurePath, withLossRetry } from './paths.js';
import { deadlineOf, Wake, type WaitOptions } from './wake.js';

export class Barrier {
  readonly path: string;

  constructor(
    private readonly zk: ZookClient,
    path: string,
  ) {
    this.path = checkPath(path);
  }

  /** Raises the barrier (a persistent node, so it outlives the session that set it). */
  async setBarrier(): Promise<void> {
    const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
    await ensurePath(this.zk, parent);
    try {
      await withLossRetry(() => this.zk.create(this.path, ''));
    } catch (error) {
      if (!isZookError(error, 'NodeExists')) throw error;
    }
  }

  /** Lowers the barrier: every waiter is released. */
  async removeBarrier(): Promise<void> {
    await deleteIfPresent(this.zk, this.path);
  }

  /** Resolves true when the barrier is down (at once if it is not set), false at the timeout. */
  async waitOnBarrier(options: WaitOptions = {}): Promise<boolean> {
    const deadlineMs = deadlineOf(options);
    for (;;) {
      options.signal?.throwIfAborted();
      const wake = new Wake();
      if ((await withLossRetry(() => this.zk.exists(this.path, { watch: wake.watcher }))) === null) return true;
      if ((await wake.wait(deadlineMs, options.signal)) === 'timeout') return false;
    }
  }
}
