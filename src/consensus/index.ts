// Public surface of the consensus core.
export { RaftNode, bootstrapState } from './raft.js';
export type { FollowerProgress, Proposed, RaftStatus } from './raft.js';
export { BROKEN_VARIANTS, DEFAULT_LIMITS } from './config.js';
export type { BrokenVariant, RaftConfig, RaftLimits } from './config.js';
export { ConfChangeType, applyConfChange, decodeConfChange, encodeConfChange } from './confchange.js';
export type { ConfChange } from './confchange.js';
export { ProposalDropped } from './errors.js';
export type { DropReason } from './errors.js';
export { EntryType, MessageType, NONE, Role, entryBytes, messageTypeName } from './types.js';
export type {
  Entry,
  HardState,
  Membership,
  Message,
  PersistedState,
  ReadState,
  Ready,
  Snapshot,
  SnapshotChunk,
  SnapshotMeta,
  SoftState,
} from './types.js';
