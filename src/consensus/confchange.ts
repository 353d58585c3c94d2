// Single-server membership changes: the payload of an EntryType.ConfChange entry
// and the pure function that applies one to a Membership.
import { assert } from '../util/assert.js';
import type { Membership } from './types.js';

export const ConfChangeType = {
  /** Add a voter, or promote a learner to voter. */
  AddVoter: 1,
  /** Add a non-voting learner (observer). */
  AddLearner: 2,
  /** Remove a voter or learner. */
  RemoveNode: 3,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly node: number;
}

/** 5 bytes: type, then the node id as u32 little-endian. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  assert(Number.isInteger(change.node) && change.node > 0 && change.node <= 0xffff_ffff, `bad node id ${change.node}`);
  const out = new Uint8Array(5);
  out[0] = change.type;
  new DataView(out.buffer).setUint32(1, change.node, true);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.byteLength === 5, `conf change payload must be 5 bytes, got ${data.byteLength}`);
  const type = data[0];
  assert(type === 1 || type === 2 || type === 3, `unknown conf change type ${type}`);
  const node = new DataView(data.buffer, data.byteOffset, 5).getUint32(1, true);
  return { type: type as ConfChangeType, node };
}

/** Whether a change is meaningful on this membership (a no-op change is refused at proposal time). */
export function confChangeValid(m: Membership, change: ConfChange): boolean {
  const voter = m.voters.includes(change.node);
  const learner = m.learners.includes(change.node);
  switch (change.type) {
    case ConfChangeType.AddVoter:
      return !voter;
    case ConfChangeType.AddLearner:
      return !voter && !learner;
    case ConfChangeType.RemoveNode:
      return (voter && m.voters.length > 1) || learner;
  }
}

/** The membership after the change. Invalid changes (possible on replay) leave it as it was. */
export function applyConfChange(m: Membership, change: ConfChange): Membership {
  if (!confChangeValid(m, change)) return m;
  const voters = m.voters.filter((id) => id !== change.node);
  const learners = m.learners.filter((id) => id !== change.node);
  if (change.type === ConfChangeType.AddVoter) voters.push(change.node);
  if (change.type === ConfChangeType.AddLearner) learners.push(change.node);
  voters.sort((a, b) => a - b);
  learners.sort((a, b) => a - b);
  return { voters, learners };
}
