// Majority arithmetic over the voters of a membership.

export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The highest index acknowledged by a majority of voters, given each voter's match. */
export function committedIndex(voters: readonly number[], matchOf: (id: number) => number): number {
  if (voters.length === 0) return 0;
  const matches = new Array<number>(voters.length);
  for (let i = 0; i < voters.length; i++) matches[i] = matchOf(voters[i]);
  matches.sort((a, b) => b - a);
  return matches[quorumSize(voters.length) - 1];
}

export const VoteResult = { Pending: 0, Won: 1, Lost: 2 } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/** Outcome of an election among voters, given the votes received so far (true = granted). */
export function voteResult(voters: readonly number[], votes: ReadonlyMap<number, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const q = quorumSize(voters.length);
  if (granted >= q) return VoteResult.Won;
  if (voters.length - rejected < q) return VoteResult.Lost;
  return VoteResult.Pending;
}

/** Whether the ids in `acked` include a majority of voters. */
export function hasQuorum(voters: readonly number[], acked: (id: number) => boolean): boolean {
  let n = 0;
  for (const id of voters) if (acked(id)) n++;
  return n >= quorumSize(voters.length);
}
