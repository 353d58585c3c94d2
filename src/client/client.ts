// The promise API, named as ZooKeeper's client names things. Each call builds a
// protocol request (ops.ts), hands it to the session (session.ts), and turns the
// reply into a value or a ZookError. Watches are registered in the reply's
// synchronous hook, so an event that follows the reply on the wire finds them.
import { AddWatchMode as AddWatchModeNumbers, WatcherType, type Acl, type ClientRequest, type ClientResponse, type Id, type Stat } from '../protocol/types.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ZookError } from './errors.js';
import { checkMultiPaths, createOp, expectResponse, expectStat, multiReadResults, multiResults, replyError, toBytes, writeOp } from './ops.js';
import { resolveConfig } from './options.js';
import type { EventFrame, ReplyFrame } from './requests.js';
import { pathOf, Session, type SessionConfig, type SubmitOptions } from './session.js';
import type {
  AddWatchMode,
  ChildrenPage,
  ClientState,
  ConnectOptions,
  CreateOptions,
  Data,
  MultiOp,
  MultiReadOp,
  MultiReadResult,
  MultiResult,
  PagedChildrenOptions,
  ReadOptions,
  RequestOptions,
  VersionOptions,
  WatchEvent,
  Watcher,
  WatcherKind,
  WatchOptions,
} from './types.js';
import { eventTypeName, type WatchSlot } from './watches.js';

/** The client's state, including the transient ones a 'state' listener is not told about. */
export type ClientPhase = 'connecting' | 'connected' | 'disconnected' | 'closing' | 'expired' | 'closed';

/**
 * Connects to one of `servers` ('ws://a:8181,ws://b:8181' or an array) and resolves
 * once a server granted a session.
 */
export async function connect(servers: string | readonly string[], options: ConnectOptions = {}): Promise<ZookClient> {
  const client = new ZookClient(await resolveConfig(servers, options));
  await client.start(options.signal);
  return client;
}

export class ZookClient {
  private readonly session: Session;

  /** Use connect(); this is for code that resolved a SessionConfig itself. */
  constructor(config: SessionConfig) {
    this.session = new Session(config);
  }

  /** @internal Opens the first connection (connect() calls it). */
  start(signal?: AbortSignal): Promise<void> {
    return this.session.start(signal);
  }

  get state(): ClientPhase {
    return this.session.state;
  }
  /** The session id (0 before the first connection). */
  get sessionId(): number {
    return this.session.sessionId;
  }
  get sessionPassword(): Uint8Array {
    return this.session.sessionPassword;
  }
  /** The timeout the server granted. */
  get sessionTimeoutMs(): number {
    return this.session.sessionTimeoutMs;
  }
  /** The highest zxid seen in a reply or event. */
  get lastZxidSeen(): number {
    return this.session.lastZxidSeen;
  }
  /** The server the client is connected to, if it is. */
  get currentServer(): string | undefined {
    return this.session.currentServer;
  }
  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.session.inFlight;
  }

  on(event: 'state', listener: (state: ClientState) => void): this {
    if (event !== 'state') throw new TypeError(`unknown event "${String(event)}"`);
    this.session.onState(listener);
    return this;
  }
  off(event: 'state', listener: (state: ClientState) => void): this {
    if (event !== 'state') throw new TypeError(`unknown event "${String(event)}"`);
    this.session.offState(listener);
    return this;
  }

  // ---------------------------------------------------------------- writes

  /** Creates a node; resolves with its path (the sequential name, for a *_SEQUENTIAL mode). */
  create(path: string, data?: Data | null, options?: CreateOptions & { readonly stat?: false }): Promise<string>;
  create(path: string, data: Data | null | undefined, options: CreateOptions & { readonly stat: true }): Promise<{ path: string; stat: Stat }>;
  create(path: string, data: Data | null | undefined, options: CreateOptions): Promise<string | { path: string; stat: Stat }>;
  async create(path: string, data?: Data | null, options: CreateOptions = {}): Promise<string | { path: string; stat: Stat }> {
    const withStat = options.stat === true;
    const reply = await this.call(createOp(path, data, options, withStat), options);
    const r = expectResponse(reply, 'create', path);
    return withStat ? { path: r.path, stat: expectStat(r.stat, r.path) } : r.path;
  }

  /** ZooKeeper's create2: the path and the new node's Stat. */
  create2(path: string, data?: Data | null, options: Omit<CreateOptions, 'stat'> = {}): Promise<{ path: string; stat: Stat }> {
    return this.create(path, data, { ...options, stat: true });
  }

  async delete(path: string, options: VersionOptions = {}): Promise<void> {
    await this.call({ op: 'delete', path, version: options.version ?? -1 }, options);
  }

  async setData(path: string, data: Data | null, options: VersionOptions = {}): Promise<Stat> {
    const reply = await this.call({ op: 'setData', path, data: toBytes(data), version: options.version ?? -1 }, options);
    return expectResponse(reply, 'stat', path).stat;
  }

  async setACL(path: string, acl: readonly Acl[], options: VersionOptions = {}): Promise<Stat> {
    const reply = await this.call({ op: 'setACL', path, acl, version: options.version ?? -1 }, options);
    return expectResponse(reply, 'stat', path).stat;
  }

  /**
   * Applies every op or none. On failure throws a ZookError with the failing op's code and `results` for every op.
   * An invalid path in any op fails the whole multi with BadArguments before anything is sent (ops.ts, checkMultiPaths).
   */
  async multi(ops: readonly MultiOp[], options: RequestOptions = {}): Promise<MultiResult[]> {
    const writeOps = ops.map(writeOp);
    checkMultiPaths(writeOps);
    const reply = await this.session.submit({ op: 'multi', ops: writeOps }, options);
    return multiResults(writeOps, reply);
  }

  // ---------------------------------------------------------------- reads

  /** The node's Stat, or null if there is none. A watcher fires on its creation, change or deletion. */
  async exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    const watch = options.watch;
    const reply = await this.session.submit(
      { op: 'exists', path, watch: watch !== undefined },
      this.submitOptions(options, (r) => {
        // As ZooKeeper: a watch on a missing node waits for its creation.
        if (watch === undefined) return;
        if (r.error === ErrorCode.Ok) this.session.watches.add('data', path, watch);
        else if (r.error === ErrorCode.NoNode) this.session.watches.add('exist', path, watch);
      }),
    );
    if (reply.error === ErrorCode.NoNode) return null;
    const error = replyError(reply, path);
    if (error !== undefined) throw error;
    return expectResponse(reply, 'stat', path).stat;
  }

  async getData(path: string, options: WatchOptions = {}): Promise<{ data: Uint8Array; stat: Stat }> {
    const reply = await this.call({ op: 'getData', path, watch: options.watch !== undefined }, options, this.watchOnOk('data', path, options.watch));
    const r = expectResponse(reply, 'data', path);
    // zook's own protocol carries no null data (protocol/types.ts Data): always bytes here.
    return { data: r.data ?? new Uint8Array(0), stat: r.stat };
  }

  /** The children's names (not sorted, as in ZooKeeper). */
  async getChildren(path: string, options: WatchOptions = {}): Promise<string[]> {
    return (await this.children(path, options, false, '', 0)).children;
  }

  /** ZooKeeper's getChildren2: the names and the parent's Stat. */
  async getChildren2(path: string, options: WatchOptions = {}): Promise<{ children: string[]; stat: Stat }> {
    const r = await this.children(path, options, true, '', 0);
    return { children: r.children, stat: expectStat(r.stat, path) };
  }

  /** One page of children, sorted by name: at most `limit`, after `after`. */
  async getChildrenPaged(path: string, options: PagedChildrenOptions): Promise<ChildrenPage> {
    if (!Number.isInteger(options.limit) || options.limit <= 0) throw new RangeError(`limit must be a positive integer, got ${options.limit}`);
    const r = await this.children(path, options, false, options.after ?? '', options.limit);
    return { children: r.children, nextAfter: r.nextAfter === undefined || r.nextAfter === '' ? undefined : r.nextAfter };
  }

  async getAllChildrenNumber(path: string, options: ReadOptions = {}): Promise<number> {
    return expectResponse(await this.call({ op: 'getAllChildrenNumber', path }, options), 'count', path).count;
  }

  /** The session's ephemeral nodes whose paths start with `prefix`. */
  async getEphemerals(prefix = '/', options: ReadOptions = {}): Promise<string[]> {
    return [...expectResponse(await this.call({ op: 'getEphemerals', prefix }, options), 'paths', prefix).paths];
  }

  async getACL(path: string, options: ReadOptions = {}): Promise<{ acl: Acl[]; stat: Stat }> {
    const r = expectResponse(await this.call({ op: 'getACL', path }, options), 'acl', path);
    return { acl: [...r.acl], stat: r.stat };
  }

  /** Waits until the server this client reads from has caught up with the leader (as of the call). */
  async sync(path = '/', options: RequestOptions = {}): Promise<void> {
    await this.call({ op: 'sync', path }, options);
  }

  /** Several reads in one round trip; each read answers or fails on its own. */
  async multiRead(ops: readonly MultiReadOp[], options: ReadOptions = {}): Promise<MultiReadResult[]> {
    const request: ClientRequest = {
      op: 'multiRead',
      ops: ops.map((o) =>
        o.op === 'getData'
          ? { op: 'getData' as const, path: o.path, watch: false }
          : { op: 'getChildren' as const, path: o.path, watch: false, withStat: false, after: '', limit: 0 },
      ),
    };
    return multiReadResults(ops, await this.session.submit(request, this.submitOptions(options)));
  }

  // ---------------------------------------------------------------- session and watches

  /** Adds credentials to the session; they are sent again on every reconnect. */
  async addAuth(scheme: string, auth: Data, options: RequestOptions = {}): Promise<void> {
    const bytes = toBytes(auth);
    await this.call({ op: 'addAuth', scheme, auth: bytes }, options);
    this.session.rememberAuth({ scheme, auth: bytes });
  }

  async whoAmI(options: RequestOptions = {}): Promise<Id[]> {
    return [...expectResponse(await this.call({ op: 'whoAmI' }, options), 'whoAmI', undefined).ids];
  }

  /**
   * A watcher that fires on every matching event until removed (PERSISTENT: this node;
   * PERSISTENT_RECURSIVE: and everything below). With `fromZxid`, it is first given
   * every event it would have seen after that zxid (e.g. the zxid of the config
   * version an application last applied, kept across restarts), in order, before
   * this call resolves, then the live ones: nothing missed, nothing twice. If the
   * server's change history no longer reaches back that far (its setting
   * watchReplayMaxChanges), the watcher gets one 'Compacted' event instead (its zxid:
   * the oldest the server could replay from): read the subtree to catch up.
   */
  async addWatch(path: string, watcher: Watcher, options: RequestOptions & { readonly mode?: AddWatchMode; readonly fromZxid?: number } = {}): Promise<void> {
    const mode = options.mode ?? 'PERSISTENT';
    const number = AddWatchModeNumbers[mode];
    if (number === undefined) throw new TypeError(`unknown addWatch mode "${String(mode)}"`);
    const fromZxid = options.fromZxid;
    if (fromZxid !== undefined && !(Number.isSafeInteger(fromZxid) && fromZxid >= 0)) throw new RangeError(`fromZxid must be an integer >= 0, got ${fromZxid}`);
    const onEvent =
      fromZxid === undefined
        ? undefined
        : (frame: EventFrame): void => {
            const type = eventTypeName(frame.type);
            if (type !== undefined) watcher({ type, path: frame.path, zxid: frame.zxid, state: 'connected' });
          };
    await this.call(
      { op: 'addWatch', path, mode: number, ...(fromZxid === undefined ? {} : { fromZxid }) },
      options,
      this.watchOnOk(mode === 'PERSISTENT' ? 'persistent' : 'recursive', path, watcher),
      onEvent,
    );
  }

  /**
   * Removes watchers of `type` on `path` (only `watcher` if given) and tells each
   * removed one with a *WatchRemoved event. The server is asked to drop its watch
   * when no watcher of that type is left on the path, unless `local`. NoWatcher if
   * none matched.
   */
  async removeWatches(path: string, options: RequestOptions & { readonly type?: WatcherKind; readonly watcher?: Watcher; readonly local?: boolean } = {}): Promise<void> {
    const kind = options.type ?? 'any';
    const plan = this.session.watches.planRemoval(path, kind, options.watcher);
    if (plan.removed.length === 0) throw new ZookError(ErrorCode.NoWatcher, `no ${kind} watcher on the path`, { path });
    let removedNow = false;
    const commit = (): void => {
      if (removedNow) return;
      removedNow = true;
      // Re-planned at commit time: watchers may have fired or been added while the request was out.
      const fresh = this.session.watches.planRemoval(path, kind, options.watcher);
      fresh.commit();
      for (const { watcher, type } of fresh.removed) {
        const event: WatchEvent = { type, path, zxid: this.session.lastZxidSeen, state: 'connected' };
        try {
          watcher(event);
        } catch (error) {
          this.session.config.onListenerError(error);
        }
      }
    };
    if (plan.tellServer && options.local !== true) {
      const watcherType = kind === 'data' ? WatcherType.DATA : kind === 'children' ? WatcherType.CHILDREN : WatcherType.ANY;
      const reply = await this.session.submit(
        { op: 'removeWatches', path, watcherType },
        // The server may not have the watch (it fired, or is not yet re-registered): the local removal stands.
        this.submitOptions(options, (r) => {
          if (r.error === ErrorCode.Ok || r.error === ErrorCode.NoWatcher) commit();
        }),
      );
      if (reply.error !== ErrorCode.NoWatcher) {
        const error = replyError(reply, path);
        if (error !== undefined) throw error;
      }
    }
    commit();
  }

  /** Ends the session (its ephemerals go) and closes the connection. */
  close(): Promise<void> {
    return this.session.close();
  }

  // ---------------------------------------------------------------- helpers

  private async children(
    path: string,
    options: WatchOptions,
    withStat: boolean,
    after: string,
    limit: number,
  ): Promise<{ children: string[]; stat?: Stat; nextAfter?: string }> {
    const reply = await this.call(
      { op: 'getChildren', path, watch: options.watch !== undefined, withStat, after, limit },
      options,
      this.watchOnOk('child', path, options.watch),
    );
    const r = expectResponse(reply, 'children', path);
    return { children: [...r.children], ...(r.stat === undefined ? {} : { stat: r.stat }), ...(r.nextAfter === undefined ? {} : { nextAfter: r.nextAfter }) };
  }

  private watchOnOk(slot: WatchSlot, path: string, watcher: Watcher | undefined): ((reply: ReplyFrame) => void) | undefined {
    if (watcher === undefined) return undefined;
    return (reply) => {
      if (reply.error === ErrorCode.Ok) this.session.watches.add(slot, path, watcher);
    };
  }

  private submitOptions(options: ReadOptions, onReply?: (reply: ReplyFrame) => void, onEvent?: (event: EventFrame) => void): SubmitOptions {
    return {
      ...(onEvent === undefined ? {} : { onEvent }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.linearizable === undefined ? {} : { linearizable: options.linearizable }),
      ...(onReply === undefined ? {} : { onReply }),
    };
  }

  /** Submits and throws the reply's error as a ZookError. */
  private async call(request: ClientRequest, options: ReadOptions, onReply?: (reply: ReplyFrame) => void, onEvent?: (event: EventFrame) => void): Promise<ReplyFrame & { response?: ClientResponse }> {
    const reply = await this.session.submit(request, this.submitOptions(options, onReply, onEvent));
    const error = replyError(reply, pathOf(request));
    if (error !== undefined) throw error;
    return reply;
  }
}
