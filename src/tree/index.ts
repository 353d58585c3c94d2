// src/tree: zook's replicated state machine, ZooKeeper's data model. The public
// surface the server uses; README.md here explains the design, the API and where
// it differs from ZooKeeper.
export { ErrorCode, errorName, type FailureCode } from './errors.js';
export { Perm, digestId, fixupAcl, hasPermission, entryAllows, type AclEntry, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, CREATOR_ALL_ACL, ANYONE_ID, type Acl, type Id } from './acl.js';
export { DEFAULT_TREE_OPTIONS, treeOptions, type TreeOptions } from './options.js';
export { isValidPath, parentOf, nameOf, ROOT } from './paths.js';
export {
  ZOOKEEPER_PATH,
  ZOOKEEPER_CONFIG_PATH,
  ZOOKEEPER_QUOTA_PATH,
  ZOOKEEPER_ACL,
  ZOOKEEPER_CONFIG_ACL,
  ZOOKEEPER_QUOTA_ACL,
  SYSTEM_NODES,
  isUndeletablePath,
  type SystemNode,
} from './system.js';
export * from './types.js';
export { DataTree, type SessionState } from './tree.js';
export { statOf } from './znode.js';
export { prepare, type Prepared } from './prepare.js';
export { apply, applyEmpty, type Applied } from './apply.js';
export { exists, getData, getChildren, getAllChildrenNumber, getEphemerals, getAcl, multiRead, type WatchTarget, type ChildrenPage, type ReadOutcome, type ReadOp, type ReadOpResult } from './reads.js';
export { WatchRegistry, EventType, WatcherType, AddWatchMode, type WatchEvent, type WatcherId } from './watches.js';
export { ChangeHistory, ChangeKind, CHANGE_OVERHEAD_BYTES, type ChangeHistoryLimits } from './history.js';
export { replayWatches, type WatchLists } from './watch-replay.js';
export { findExpired, DEFAULT_MAX_EXPIRED_PER_SWEEP } from './expiry.js';
export { encodeTxn, decodeTxn, DecodeError } from './codec.js';
export { ByteReader, ByteWriter } from './bytes.js';
export { encodeWriteRequest, writeWriteRequest, decodeWriteRequest, type SessionRequest } from './request-codec.js';
export { failedMultiResult } from './prepare.js';
export { writeSnapshot, loadSnapshot, loadSnapshotAsync, summarizeSnapshot, SnapshotLoader, SnapshotError, DEFAULT_MAX_CHUNK_BYTES, type SnapshotWriteOptions, type TreeSnapshotSummary } from './snapshot.js';
