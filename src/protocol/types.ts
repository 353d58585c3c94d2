// The client protocol as plain TypeScript values: what the client sends and the
// server answers, independent of the FlatBuffers layout (schema/client.fbs), which
// only encode.ts and decode.ts know. zxids and session ids are safe integers here
// and 64-bit integers on the wire.

export interface Acl {
  readonly perms: number;
  readonly scheme: string;
  readonly id: string;
}

export interface Id {
  readonly scheme: string;
  readonly id: string;
}

export interface Stat {
  readonly czxid: number;
  readonly mzxid: number;
  readonly pzxid: number;
  readonly ctime: number;
  readonly mtime: number;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: number;
  readonly dataLength: number;
  readonly numChildren: number;
}

/** ZooKeeper's CreateMode numbers. */
export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;
export type CreateModeName = keyof typeof CreateMode;
export type CreateModeNumber = (typeof CreateMode)[CreateModeName];

export const AddWatchMode = { PERSISTENT: 0, PERSISTENT_RECURSIVE: 1 } as const;
export type AddWatchModeNumber = (typeof AddWatchMode)[keyof typeof AddWatchMode];

export const WatcherType = { CHILDREN: 1, DATA: 2, ANY: 3 } as const;
export type WatcherTypeNumber = (typeof WatcherType)[keyof typeof WatcherType];

/** ZooKeeper's event type numbers. */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
  /** zook only: the server's change history no longer reaches back to the zxid a watch asked to replay from. */
  Compacted: 8,
} as const;
export type EventTypeName = keyof typeof EventType;

/**
 * Node data in requests and replies: bytes, or null for ZooKeeper's null buffer
 * (jute length -1). Only the ZooKeeper door (src/zookeeper) produces or conveys
 * null; this protocol's FlatBuffers form has no null: a request always decodes to
 * bytes (an absent vector is empty), and null data is answered as empty bytes.
 */
export type Data = Uint8Array | null;

export interface CreateOp {
  readonly op: 'create';
  readonly path: string;
  readonly data: Data;
  readonly acl: readonly Acl[];
  readonly mode: CreateModeNumber;
  readonly ttlMs: number;
  readonly returnStat: boolean;
}
export interface DeleteOp {
  readonly op: 'delete';
  readonly path: string;
  readonly version: number;
}
export interface SetDataOp {
  readonly op: 'setData';
  readonly path: string;
  readonly data: Data;
  readonly version: number;
}
export interface CheckOp {
  readonly op: 'check';
  readonly path: string;
  readonly version: number;
}
export interface GetDataOp {
  readonly op: 'getData';
  readonly path: string;
  readonly watch: boolean;
}
export interface GetChildrenOp {
  readonly op: 'getChildren';
  readonly path: string;
  readonly watch: boolean;
  readonly withStat: boolean;
  /** Paging: list names after this one ('' = from the start). */
  readonly after: string;
  /** Paging: at most this many names (0 = no paging, all of them). */
  readonly limit: number;
}

export type WriteOp = CreateOp | DeleteOp | SetDataOp | CheckOp;
export type ReadOp = GetDataOp | GetChildrenOp;

export type ClientRequest =
  | CreateOp
  | DeleteOp
  | SetDataOp
  | GetDataOp
  | GetChildrenOp
  | { readonly op: 'exists'; readonly path: string; readonly watch: boolean }
  | { readonly op: 'getAllChildrenNumber'; readonly path: string }
  | { readonly op: 'getEphemerals'; readonly prefix: string }
  | { readonly op: 'getACL'; readonly path: string }
  | { readonly op: 'setACL'; readonly path: string; readonly acl: readonly Acl[]; readonly version: number }
  | { readonly op: 'sync'; readonly path: string }
  | { readonly op: 'multi'; readonly ops: readonly WriteOp[] }
  | { readonly op: 'multiRead'; readonly ops: readonly ReadOp[] }
  | { readonly op: 'addAuth'; readonly scheme: string; readonly auth: Uint8Array }
  | {
      readonly op: 'addWatch';
      readonly path: string;
      readonly mode: AddWatchModeNumber;
      /** Replay every event after this zxid first (-1 or absent: live events only). */
      readonly fromZxid?: number;
    }
  | { readonly op: 'removeWatches'; readonly path: string; readonly watcherType: WatcherTypeNumber }
  | { readonly op: 'whoAmI' }
  | { readonly op: 'ping' }
  | { readonly op: 'closeSession' }
  | {
      readonly op: 'setWatches';
      readonly relativeZxid: number;
      readonly dataWatches: readonly string[];
      readonly existWatches: readonly string[];
      readonly childWatches: readonly string[];
      readonly persistentWatches: readonly string[];
      readonly persistentRecursiveWatches: readonly string[];
    };

export type ClientOpName = ClientRequest['op'];

/**
 * One op's outcome inside a multi or multiRead. In a failed multi, as in ZooKeeper,
 * the ops before the failing one report error 0 with no response, the failing op
 * its error, and the ops after it RuntimeInconsistency.
 */
export type OpResult =
  | { readonly error: 0; readonly response?: undefined }
  | { readonly error: 0; readonly response: ClientResponse }
  | { readonly error: number; readonly response?: undefined };

export type ClientResponse =
  | { readonly kind: 'create'; readonly path: string; readonly stat?: Stat }
  | { readonly kind: 'stat'; readonly stat: Stat }
  | { readonly kind: 'data'; readonly data: Data; readonly stat: Stat }
  | { readonly kind: 'children'; readonly children: readonly string[]; readonly stat?: Stat; readonly nextAfter?: string }
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'paths'; readonly paths: readonly string[] }
  | { readonly kind: 'acl'; readonly acl: readonly Acl[]; readonly stat: Stat }
  | { readonly kind: 'sync'; readonly path: string }
  | { readonly kind: 'empty' }
  | { readonly kind: 'whoAmI'; readonly ids: readonly Id[] }
  | { readonly kind: 'multi'; readonly results: readonly OpResult[] };

export interface AuthInfo {
  readonly scheme: string;
  readonly auth: Uint8Array;
}

/** Frames a client sends. */
export type ClientFrame =
  | {
      readonly kind: 'connect';
      readonly protocolVersion: number;
      readonly sessionId: number;
      readonly password: Uint8Array;
      readonly sessionTimeoutMs: number;
      readonly lastZxidSeen: number;
      readonly auth: readonly AuthInfo[];
    }
  | { readonly kind: 'request'; readonly xid: number; readonly linearizable: boolean; readonly request: ClientRequest };

/** Frames a server sends. */
export type ServerFrame =
  | {
      readonly kind: 'connected';
      readonly protocolVersion: number;
      readonly sessionId: number;
      readonly password: Uint8Array;
      readonly sessionTimeoutMs: number;
      readonly serverId: number;
      readonly epoch: number;
    }
  | { readonly kind: 'reply'; readonly xid: number; readonly zxid: number; readonly error: number; readonly response?: ClientResponse }
  | {
      readonly kind: 'event';
      readonly type: number;
      readonly path: string;
      readonly zxid: number;
      /** Non-zero: replayed for the addWatch request with this xid, for its watcher only. */
      readonly forXid?: number;
    }
  | { readonly kind: 'close'; readonly error: number; readonly reason: string };

/** The xid every watch event carries (as in ZooKeeper). */
export const EVENT_XID = -1;
export const PROTOCOL_VERSION = 1;
