// Tracks whether an ephemeral node that stands for "I hold this" (a lock node, a
// lease, a leader's node) can still be trusted, from the client's session state:
//   disconnected -> 'suspended': the session may expire any moment without us
//                   hearing of it, so the holder must act as if it does not hold;
//   connected    -> verified: the same session is back (the client only reports
//                   'connected' for the same session), its ephemeral is checked,
//                   and the holder is told 'reconnected';
//   expired / closed, or the node is gone -> 'lost'.
import { type ClientState, type ZookClient } from '../client/index.js';
import { TypedEmitter } from './emitter.js';
import { deleteIfPresent, isRetryable } from './paths.js';

export type HoldState = 'held' | 'suspended' | 'lost' | 'released';
export type LossReason = 'expired' | 'closed' | 'deleted';

export interface HoldEvents {
  /** The connection dropped: until 'reconnected', act as if not holding (the session may be expiring). */
  suspended: [];
  /** The same session is back and the node is still there: held again. */
  reconnected: [];
  /** Gone for good: the session expired or was closed, or the node was deleted. */
  lost: [reason: LossReason];
}

export class HeldNode extends TypedEmitter<HoldEvents> {
  private stateNow: HoldState;
  private verifying = false;

  constructor(
    private readonly zk: ZookClient,
    readonly path: string,
  ) {
    super();
    this.stateNow = zk.state === 'connected' ? 'held' : 'suspended';
    zk.on('state', this.onState);
  }

  get state(): HoldState {
    return this.stateNow;
  }

  /** Deletes the node (if the session still has it) and stops tracking. */
  async release(): Promise<void> {
    if (this.stateNow === 'released') return;
    const wasLost = this.stateNow === 'lost';
    this.stateNow = 'released';
    this.zk.off('state', this.onState);
    if (!wasLost) await deleteIfPresent(this.zk, this.path);
  }

  /** Marks the node lost (its owner learned of it another way, e.g. a watch saw it deleted). */
  markLost(reason: LossReason): void {
    if (this.stateNow === 'lost' || this.stateNow === 'released') return;
    this.stateNow = 'lost';
    this.zk.off('state', this.onState);
    this.emit('lost', reason);
  }

  private readonly onState = (state: ClientState): void => {
    if (this.stateNow === 'lost' || this.stateNow === 'released') return;
    if (state === 'expired' || state === 'closed') {
      this.markLost(state);
    } else if (state === 'disconnected') {
      if (this.stateNow === 'held') {
        this.stateNow = 'suspended';
        this.emit('suspended');
      }
    } else if (state === 'connected' && this.stateNow === 'suspended') {
      void this.verify();
    }
  };

  /** After a reconnect: the node should still be there (same session); check before trusting it. */
  private async verify(): Promise<void> {
    if (this.verifying) return;
    this.verifying = true;
    try {
      const stat = await this.zk.exists(this.path);
      if (this.stateNow !== 'suspended') return;
      if (stat !== null && stat.ephemeralOwner === this.zk.sessionId && this.zk.state === 'connected') {
        this.stateNow = 'held';
        this.emit('reconnected');
      } else if (stat === null || stat.ephemeralOwner !== this.zk.sessionId) {
        this.markLost('deleted');
      }
    } catch (error) {
      // Disconnected again: the next 'connected' verifies again. Expiry arrives as a state.
      if (!isRetryable(error) && this.stateNow === 'suspended') this.markLost('expired');
    } finally {
      this.verifying = false;
    }
  }
}
