/**
 * Thrown when the core refuses a request (proposal, conf change, read, transfer).
 * Nothing was appended: the operation definitely did not happen, so the host may
 * fail it to the client or retry it elsewhere (for instance at `leaderHint`).
 */
export class ProposalDropped extends Error {
  override name = 'ProposalDropped';
  constructor(
    readonly reason: DropReason,
    /** The leader this node knows of, 0 if none. */
    readonly leaderHint: number,
  ) {
    super(`proposal dropped: ${reason}${leaderHint === 0 ? '' : ` (leader is ${leaderHint})`}`);
  }
}

export type DropReason =
  | 'not leader'
  | 'no leader known'
  | 'leader transfer in progress'
  | 'proposal queue full'
  | 'conf change already pending'
  | 'invalid conf change'
  | 'read index queue full'
  | 'not a member';
