// zook's TypeScript client: connect(), the ZookClient promise API, ZookError, and
// the value types calls take and return.
export { connect, ZookClient } from './client.js';
export type { ClientPhase } from './client.js';
export { ZookError, isZookError } from './errors.js';
export type { MultiOpOutcome, ZookErrorCode } from './errors.js';
export { Perms, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, CREATOR_ALL_ACL } from './acl.js';
export { webSocketTransport, wsTransport } from './transport.js';
export type { Transport, TransportFactory, TransportHandlers, WebSocketLike, WebSocketConstructor } from './transport.js';
export type {
  Acl,
  AddWatchMode,
  AuthData,
  ChildrenPage,
  ClientState,
  ConnectOptions,
  CreateModeName,
  CreateOptions,
  Data,
  EventTypeName,
  Id,
  MultiOp,
  MultiReadOp,
  MultiReadResult,
  MultiResult,
  PagedChildrenOptions,
  ReadOptions,
  RequestOptions,
  Stat,
  VersionOptions,
  WatchEvent,
  Watcher,
  WatcherKind,
  WatchOptions,
} from './types.js';
