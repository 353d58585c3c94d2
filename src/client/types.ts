// The client's public value types: what calls take and return.
import type { Acl, CreateModeName, EventTypeName, Id, Stat } from '../protocol/types.js';
import type { ZookError } from './errors.js';
import type { TransportFactory } from './transport.js';

export type { Acl, CreateModeName, EventTypeName, Id, Stat };

/** The connection states a 'state' listener sees. 'expired' and 'closed' are final. */
export type ClientState = 'connected' | 'disconnected' | 'expired' | 'closed';

/** Node data: bytes, or a string sent as UTF-8. */
export type Data = Uint8Array | string;

/**
 * What a watcher receives. A node event has the event type, path and zxid. When
 * the session ends (expired, or the client closed) every watcher gets one event
 * with type 'None' and that state, and is dropped.
 */
export interface WatchEvent {
  readonly type: EventTypeName;
  readonly path: string;
  readonly zxid: number;
  readonly state: 'connected' | 'expired' | 'closed';
}
export type Watcher = (event: WatchEvent) => void;

export interface RequestOptions {
  /** Fail with OperationTimeout if no reply came in this time (default: the client's requestTimeoutMs; 0 = none). */
  readonly timeoutMs?: number;
  /** Abort the call: it rejects with the signal's reason. A write that was already sent may still be applied. */
  readonly signal?: AbortSignal;
}
export interface ReadOptions extends RequestOptions {
  /** Confirm with the leader first, so the answer is never stale. */
  readonly linearizable?: boolean;
}
export interface WatchOptions extends ReadOptions {
  /** A one-shot watcher for this node (ZooKeeper semantics). */
  readonly watch?: Watcher;
}
export interface VersionOptions extends RequestOptions {
  /** Expected version; -1 (the default) matches any. */
  readonly version?: number;
}

export interface CreateOptions extends RequestOptions {
  readonly mode?: CreateModeName;
  /** Default: OPEN_ACL_UNSAFE (world:anyone, all permissions). */
  readonly acl?: readonly Acl[];
  /** For the *_WITH_TTL modes. */
  readonly ttlMs?: number;
  /** Also return the new node's Stat (ZooKeeper's create2). */
  readonly stat?: boolean;
}

export interface PagedChildrenOptions extends WatchOptions {
  /** List names after this one (default: from the start). */
  readonly after?: string;
  /** At most this many names. */
  readonly limit: number;
}
export interface ChildrenPage {
  readonly children: string[];
  /** Pass as `after` for the next page; undefined when this was the last one. */
  readonly nextAfter: string | undefined;
}

export type MultiOp =
  | {
      readonly op: 'create';
      readonly path: string;
      readonly data?: Data;
      readonly mode?: CreateModeName;
      readonly acl?: readonly Acl[];
      readonly ttlMs?: number;
    }
  | { readonly op: 'delete'; readonly path: string; readonly version?: number }
  | { readonly op: 'setData'; readonly path: string; readonly data: Data; readonly version?: number }
  | { readonly op: 'check'; readonly path: string; readonly version: number };

export type MultiResult =
  | { readonly op: 'create'; readonly path: string; readonly stat?: Stat }
  | { readonly op: 'delete' }
  | { readonly op: 'setData'; readonly stat: Stat }
  | { readonly op: 'check' };

export type MultiReadOp = { readonly op: 'getData'; readonly path: string } | { readonly op: 'getChildren'; readonly path: string };

/** One read's outcome in a multiRead: its value, or its error (the other reads still answer). */
export type MultiReadResult =
  | { readonly op: 'getData'; readonly data: Uint8Array; readonly stat: Stat }
  | { readonly op: 'getChildren'; readonly children: string[] }
  | { readonly op: 'getData' | 'getChildren'; readonly error: ZookError };

export type AddWatchMode = 'PERSISTENT' | 'PERSISTENT_RECURSIVE';
/** Which watchers removeWatches removes: one-shot data/exists, one-shot children, or all (persistent ones too). */
export type WatcherKind = 'data' | 'children' | 'any';

export interface AuthData {
  readonly scheme: string;
  readonly auth: Data;
}

export interface ConnectOptions {
  /** The session timeout to ask for; the server may grant another (see `sessionTimeoutMs` on the client). Default 10 s. */
  readonly sessionTimeoutMs?: number;
  /** connect() fails with ConnectionLoss if no server gave a session in this time. Default: sessionTimeoutMs. */
  readonly connectTimeoutMs?: number;
  /** One attempt (socket + handshake) to one server gives up after this. Default: connectTimeoutMs / number of servers, at least 1 s. */
  readonly handshakeTimeoutMs?: number;
  /** Default per-call timeout; 0 = none. Default: sessionTimeoutMs. */
  readonly requestTimeoutMs?: number;
  /** Requests sent and not yet answered, per connection; further calls wait. Default 1000 (the server's default limit). */
  readonly maxInFlight?: number;
  /** Calls waiting to be sent (while disconnected, or beyond maxInFlight); further calls fail with Throttled. Default 100,000. */
  readonly maxQueuedRequests?: number;
  /** Reconnect backoff: first delay scale and cap. Defaults 100 ms and 5 s. */
  readonly reconnectBaseDelayMs?: number;
  readonly reconnectMaxDelayMs?: number;
  /** close() waits this long for the server to confirm closeSession. Default 2 s. */
  readonly closeTimeoutMs?: number;
  /** Try the servers in a random order (as ZooKeeper does). Default true. */
  readonly shuffleServers?: boolean;
  /** Uniform in [0, 1): jitter and shuffling. Default Math.random. */
  readonly random?: () => number;
  /** Credentials sent with every ConnectRequest (addAuth adds to them). */
  readonly auth?: readonly AuthData[];
  /** Largest frame accepted from a server (ws transport). Default 16 MiB. */
  readonly maxFrameBytes?: number;
  /**
   * For wss:// servers: the CA certificate(s), PEM, that the servers' certificates
   * must chain to (instead of the platform's trusted roots). The server's name is
   * checked too. Node only: the connection then runs on `ws`. Not with `transport`.
   */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** As `ca`, read from this PEM file at connect() (Node only). */
  readonly tlsCaFile?: string;
  /** The socket; default: the native WebSocket when there is one, else `ws` (always `ws` with `ca` or `tlsCaFile`). */
  readonly transport?: TransportFactory;
  /** Where a throwing watcher or state listener is reported. Default console.error. */
  readonly onListenerError?: (error: unknown) => void;
  /** Abort connect(). */
  readonly signal?: AbortSignal;
}
