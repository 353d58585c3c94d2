// The core of every queue-ordered recipe (lock, read/write lock, leader latch):
// given our sequential node under `dir`, wait until a policy over the ordered
// children says we are through, watching only the one node the policy names, so
// a release wakes one waiter rather than the whole herd.
import { isZookError, ZookError, type ZookClient } from '../client/index.js';
import { joinPath, sortBySequence, withLossRetry } from './paths.js';
import { Wake } from './wake.js';

/** What a policy decides for our node at `index` in `ordered` (sorted by sequence). */
export type TurnDecision = { readonly through: true } | { readonly through: false; readonly watch: string };
export type TurnPolicy = (ordered: readonly string[], index: number) => TurnDecision;

/** Through when we are first; otherwise watch the node just before us. */
export const firstInLine: TurnPolicy = (ordered, index) => (index === 0 ? { through: true } : { through: false, watch: ordered[index - 1] });

/**
 * Resolves true when the policy lets `ourName` through, false at the deadline.
 * Throws (NoNode) if our node disappeared: the session ended or someone deleted it.
 */
export async function waitForTurn(zk: ZookClient, dir: string, ourName: string, policy: TurnPolicy, deadlineMs: number, signal?: AbortSignal): Promise<boolean> {
  for (;;) {
    signal?.throwIfAborted();
    const ordered = sortBySequence(await withLossRetry(() => zk.getChildren(dir)));
    const index = ordered.indexOf(ourName);
    if (index < 0) throw new ZookError(-101, 'our sequential node is gone (session ended or node deleted)', { path: joinPath(dir, ourName) });
    const decision = policy(ordered, index);
    if (decision.through) return true;
    const wake = new Wake();
    try {
      // getData, not exists: on a missing node it sets no watch that would linger.
      await withLossRetry(() => zk.getData(joinPath(dir, decision.watch), { watch: wake.watcher }));
    } catch (error) {
      if (isZookError(error, 'NoNode')) continue; // it went between our list and our watch: look again
      throw error;
    }
    if ((await wake.wait(deadlineMs, signal)) === 'timeout') return false;
  }
}
