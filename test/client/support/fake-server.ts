// A scripted stand-in for the zook server, for client tests: a ws WebSocketServer
// on 127.0.0.1 that speaks the real protocol codec over a MiniTree, with server-side
// sessions and watches, plus hooks to drop connections, withhold replies, refuse a
// session as expired, and a log of every frame received. Several FakeServers can
// share one FakeState to act as a cluster (for failover).
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeClientFrame, encodeServerFrame } from '../../../src/protocol/index.js';
import {
  EventType,
  PROTOCOL_VERSION,
  type ClientFrame,
  type ClientRequest,
  type ClientResponse,
  type Id,
  type OpResult,
  type ServerFrame,
} from '../../../src/protocol/types.js';
import { ErrorCode } from '../../../src/tree/errors.js';
import { MiniTree, parentOf, type Applied, type TreeEvent } from './mini-tree.js';

export type RequestFrame = Extract<ClientFrame, { kind: 'request' }>;
export type ConnectFrame = Extract<ClientFrame, { kind: 'connect' }>;

export interface FakeSession {
  readonly id: number;
  readonly password: Uint8Array;
  timeoutMs: number;
  conn: FakeConn | undefined;
  readonly ids: Id[];
  readonly watches: { data: Set<string>; child: Set<string>; persistent: Set<string>; recursive: Set<string> };
}

/** Sessions and data shared by the servers of one fake cluster. */
export class FakeState {
  readonly tree = new MiniTree();
  readonly sessions = new Map<number, FakeSession>();
  /** Large ids, so the client's 64-bit handling is exercised. */
  private nextSessionId = 2 ** 40 + 1;

  newSession(timeoutMs: number): FakeSession {
    const id = this.nextSessionId++;
    const password = Uint8Array.from({ length: 16 }, (_, i) => (id + i * 7) & 0xff);
    const session: FakeSession = {
      id,
      password,
      timeoutMs,
      conn: undefined,
      ids: [{ scheme: 'ip', id: '127.0.0.1' }],
      watches: { data: new Set(), child: new Set(), persistent: new Set(), recursive: new Set() },
    };
    this.sessions.set(id, session);
    return session;
  }

  /** Ends a session as the server would on expiry: ephemerals go, and its connection is told. */
  expire(id: number, how: 'notice' | 'close-reason' = 'notice'): void {
    const session = this.sessions.get(id);
    if (session === undefined) return;
    this.endSession(session);
    const conn = session.conn;
    if (conn === undefined) return;
    if (how === 'notice') conn.send({ kind: 'close', error: ErrorCode.SessionExpired, reason: 'session expired' });
    conn.close(4000, how === 'notice' ? 'bye' : 'SessionExpired');
  }

  endSession(session: FakeSession): void {
    this.sessions.delete(session.id);
    const events: TreeEvent[] = [];
    for (const [path, node] of [...this.tree.nodes]) {
      if (node.ephemeralOwner !== session.id) continue;
      this.tree.zxid++;
      this.tree.remove(path);
      events.push({ type: 'NodeDeleted', path }, { type: 'NodeChildrenChanged', path: parentOf(path) });
    }
    this.deliver(events);
  }

  /** Sends each live session the events its watches catch (one-shot watches are consumed). */
  deliver(events: readonly TreeEvent[]): void {
    for (const session of this.sessions.values()) {
      const conn = session.conn;
      if (conn === undefined || conn.closed) continue;
      for (const ev of events) {
        const w = session.watches;
        let fire = false;
        if (ev.type !== 'NodeChildrenChanged' && w.data.delete(ev.path)) fire = true;
        if ((ev.type === 'NodeChildrenChanged' || ev.type === 'NodeDeleted') && w.child.delete(ev.path)) fire = true;
        if (w.persistent.has(ev.path)) fire = true;
        if (ev.type !== 'NodeChildrenChanged' && w.recursive.size > 0) {
          for (let p = ev.path; ; p = parentOf(p)) {
            if (w.recursive.has(p)) fire = true;
            if (p === '/') break;
          }
        }
        if (fire) conn.send({ kind: 'event', type: EventType[ev.type], path: ev.path, zxid: this.tree.zxid });
      }
    }
  }

  /** Applies one request for `session`; events go out before the caller sends the reply. */
  apply(session: FakeSession, request: ClientRequest): Applied {
    const tree = this.tree;
    const w = session.watches;
    switch (request.op) {
      case 'create':
      case 'delete':
      case 'setData': {
        tree.zxid++;
        const r = tree.write(request, session.id);
        this.deliver(r.events);
        return r;
      }
      case 'multi': {
        tree.zxid++;
        const r = tree.multi(request.ops, session.id);
        this.deliver(r.events);
        return r;
      }
      case 'exists': {
        if (request.watch) w.data.add(request.path);
        const stat = tree.stat(request.path);
        return stat === undefined ? { error: ErrorCode.NoNode, events: [] } : { error: 0, response: { kind: 'stat', stat }, events: [] };
      }
      case 'getData': {
        const r = tree.getData(request.path);
        if (r.error === 0 && request.watch) w.data.add(request.path);
        return r;
      }
      case 'getChildren': {
        const r = tree.getChildren(request.path, request.withStat, request.after, request.limit);
        if (r.error === 0 && request.watch) w.child.add(request.path);
        return r;
      }
      case 'getAllChildrenNumber': {
        if (!tree.nodes.has(request.path)) return { error: ErrorCode.NoNode, events: [] };
        const prefix = request.path === '/' ? '/' : `${request.path}/`;
        const count = [...tree.nodes.keys()].filter((p) => p !== request.path && p.startsWith(prefix)).length;
        return { error: 0, response: { kind: 'count', count }, events: [] };
      }
      case 'getEphemerals': {
        const paths = [...tree.nodes].filter(([p, n]) => n.ephemeralOwner === session.id && p.startsWith(request.prefix)).map(([p]) => p);
        return { error: 0, response: { kind: 'paths', paths }, events: [] };
      }
      case 'getACL': {
        const n = tree.nodes.get(request.path);
        const stat = tree.stat(request.path);
        if (n === undefined || stat === undefined) return { error: ErrorCode.NoNode, events: [] };
        return { error: 0, response: { kind: 'acl', acl: n.acl, stat }, events: [] };
      }
      case 'setACL': {
        const n = tree.nodes.get(request.path);
        if (n === undefined) return { error: ErrorCode.NoNode, events: [] };
        if (request.version !== -1 && request.version !== n.aversion) return { error: ErrorCode.BadVersion, events: [] };
        tree.zxid++;
        n.acl = [...request.acl];
        n.aversion++;
        return { error: 0, response: { kind: 'stat', stat: tree.stat(request.path)! }, events: [] };
      }
      case 'sync':
        return { error: 0, response: { kind: 'sync', path: request.path }, events: [] };
      case 'multiRead': {
        const results: OpResult[] = request.ops.map((op) => {
          const r = op.op === 'getData' ? tree.getData(op.path) : tree.getChildren(op.path, false, '', 0);
          return r.error === 0 && r.response !== undefined ? { error: 0, response: r.response } : { error: r.error };
        });
        return { error: 0, response: { kind: 'multi', results }, events: [] };
      }
      case 'addAuth': {
        if (request.scheme !== 'digest') return { error: ErrorCode.AuthFailed, events: [] };
        const text = new TextDecoder().decode(request.auth);
        session.ids.push({ scheme: 'digest', id: text.split(':')[0] });
        return { error: 0, response: { kind: 'empty' }, events: [] };
      }
      case 'whoAmI':
        return { error: 0, response: { kind: 'whoAmI', ids: [...session.ids] }, events: [] };
      case 'addWatch':
        (request.mode === 0 ? w.persistent : w.recursive).add(request.path);
        return { error: 0, response: { kind: 'empty' }, events: [] };
      case 'removeWatches': {
        const sets = request.watcherType === 2 ? [w.data] : request.watcherType === 1 ? [w.child] : [w.data, w.child, w.persistent, w.recursive];
        let found = false;
        for (const set of sets) found = set.delete(request.path) || found;
        return found ? { error: 0, response: { kind: 'empty' }, events: [] } : { error: ErrorCode.NoWatcher, events: [] };
      }
      case 'setWatches': {
        // ZooKeeper's rules: a change after relativeZxid fires now, the rest re-register.
        const events: { type: TreeEvent['type']; path: string }[] = [];
        for (const path of [...request.dataWatches]) {
          const n = tree.nodes.get(path);
          if (n === undefined) events.push({ type: 'NodeDeleted', path });
          else if (n.mzxid > request.relativeZxid) events.push({ type: 'NodeDataChanged', path });
          else w.data.add(path);
        }
        for (const path of request.existWatches) {
          if (tree.nodes.has(path)) events.push({ type: 'NodeCreated', path });
          else w.data.add(path);
        }
        for (const path of request.childWatches) {
          const n = tree.nodes.get(path);
          if (n === undefined) events.push({ type: 'NodeDeleted', path });
          else if (n.pzxid > request.relativeZxid) events.push({ type: 'NodeChildrenChanged', path });
          else w.child.add(path);
        }
        for (const path of request.persistentWatches) w.persistent.add(path);
        for (const path of request.persistentRecursiveWatches) w.recursive.add(path);
        const conn = session.conn;
        for (const ev of events) conn?.send({ kind: 'event', type: EventType[ev.type], path: ev.path, zxid: tree.zxid });
        return { error: 0, response: { kind: 'empty' }, events: [] };
      }
      case 'ping':
        return { error: 0, response: { kind: 'empty' }, events: [] };
      case 'closeSession':
        this.endSession(session);
        return { error: 0, response: { kind: 'empty' }, events: [] };
    }
  }
}

export class FakeConn {
  closed = false;
  session: FakeSession | undefined;

  constructor(
    readonly id: number,
    private readonly ws: WebSocket,
  ) {}

  send(frame: ServerFrame): void {
    if (this.closed) return;
    this.ws.send(encodeServerFrame(frame));
  }

  sendRaw(data: Uint8Array | string): void {
    if (!this.closed) this.ws.send(data);
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  /** Drops the TCP connection without a close handshake. */
  terminate(): void {
    this.closed = true;
    this.ws.terminate();
  }
}

/** How the server answers a ConnectRequest. */
export type ConnectDecision = 'accept' | 'expire-notice' | 'expire-zero-timeout' | 'expire-close-reason' | 'ignore';

export interface Received {
  readonly conn: number;
  readonly frame: ClientFrame;
}

export class FakeServer {
  readonly received: Received[] = [];
  readonly connections: FakeConn[] = [];
  /** Decides the answer to each ConnectRequest; default: resume a known session, expire an unknown one. */
  onConnect: ((frame: ConnectFrame, conn: FakeConn) => ConnectDecision) | undefined;
  /** Sees each request first; return true when it handled the request (replied itself, or withholds the reply). */
  onRequest: ((frame: RequestFrame, conn: FakeConn) => boolean) | undefined;
  /** Caps the session timeout the server grants. */
  grantTimeoutMs: ((requestedMs: number) => number) | undefined;
  private held: { conn: FakeConn; frame: RequestFrame }[] | undefined;
  private waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  private nextConnId = 1;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly state: FakeState,
    readonly url: string,
  ) {
    wss.on('connection', (ws) => this.accept(ws));
  }

  static async start(state: FakeState = new FakeState(), port = 0): Promise<FakeServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected address');
    return new FakeServer(wss, state, `ws://127.0.0.1:${address.port}`);
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Requests received (not pings) in order. */
  requests(op?: ClientRequest['op']): RequestFrame[] {
    return this.received
      .map((r) => r.frame)
      .filter((f): f is RequestFrame => f.kind === 'request' && (op === undefined ? f.request.op !== 'ping' : f.request.op === op));
  }

  connects(): ConnectFrame[] {
    return this.received.map((r) => r.frame).filter((f): f is ConnectFrame => f.kind === 'connect');
  }

  /** Resolves with the first received frame (past or future) that matches. */
  waitFor(match: (r: Received) => boolean): Promise<Received> {
    const past = this.received.find(match);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Resolves once `n` frames matching have been received. */
  async waitForCount(n: number, match: (r: Received) => boolean): Promise<void> {
    let seen = 0;
    await this.waitFor((r) => match(r) && ++seen >= n);
  }

  /** Withholds every reply until release(). */
  hold(): void {
    this.held ??= [];
  }

  /** Answers the withheld requests in order, and stops withholding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { conn, frame } of held) if (!conn.closed) this.answer(conn, frame);
  }

  get heldCount(): number {
    return this.held?.length ?? 0;
  }

  /** Drops every client connection (TCP reset), keeps listening. */
  dropConnections(): void {
    for (const c of this.connections) c.terminate();
  }

  /** Drops every connection and stops listening (the server died). */
  async stop(): Promise<void> {
    this.dropConnections();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket): void {
    const conn = new FakeConn(this.nextConnId++, ws);
    this.connections.push(conn);
    ws.on('message', (data, isBinary) => {
      if (!isBinary || conn.closed) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      const frame = decodeClientFrame(bytes);
      const record = { conn: conn.id, frame };
      this.received.push(record);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(record)) return true;
        w.resolve(record);
        return false;
      });
      if (frame.kind === 'connect') this.handshake(conn, frame);
      else if (!(this.onRequest?.(frame, conn) ?? false)) {
        if (this.held !== undefined) this.held.push({ conn, frame });
        else this.answer(conn, frame);
      }
    });
    ws.on('close', () => {
      conn.closed = true;
      if (conn.session?.conn === conn) conn.session.conn = undefined;
    });
    ws.on('error', () => undefined);
  }

  private handshake(conn: FakeConn, frame: ConnectFrame): void {
    const known = frame.sessionId === 0 ? undefined : this.state.sessions.get(frame.sessionId);
    const valid = frame.sessionId === 0 || (known !== undefined && Buffer.from(known.password).equals(Buffer.from(frame.password)));
    const decision = this.onConnect?.(frame, conn) ?? (valid ? 'accept' : 'expire-notice');
    switch (decision) {
      case 'ignore':
        return;
      case 'expire-notice':
        conn.send({ kind: 'close', error: ErrorCode.SessionExpired, reason: 'session expired' });
        conn.close(4000, 'bye');
        return;
      case 'expire-zero-timeout':
        conn.send({ kind: 'connected', protocolVersion: PROTOCOL_VERSION, sessionId: 0, password: new Uint8Array(0), sessionTimeoutMs: 0, serverId: 1, epoch: 1 });
        conn.close(4000, 'bye');
        return;
      case 'expire-close-reason':
        conn.close(4000, 'SessionExpired');
        return;
      case 'accept': {
        const timeoutMs = this.grantTimeoutMs?.(frame.sessionTimeoutMs) ?? frame.sessionTimeoutMs;
        const session = known ?? this.state.newSession(timeoutMs);
        session.timeoutMs = timeoutMs;
        const old = session.conn;
        session.conn = conn;
        conn.session = session;
        if (old !== undefined && old !== conn) old.close(4001, 'session moved');
        conn.send({
          kind: 'connected',
          protocolVersion: PROTOCOL_VERSION,
          sessionId: session.id,
          password: session.password,
          sessionTimeoutMs: timeoutMs,
          serverId: 1,
          epoch: 1,
        });
      }
    }
  }

  /** The default answer: apply to the tree, events first, then the reply. */
  answer(conn: FakeConn, frame: RequestFrame): void {
    const session = conn.session;
    if (session === undefined || !this.state.sessions.has(session.id)) {
      conn.send({ kind: 'reply', xid: frame.xid, zxid: this.state.tree.zxid, error: ErrorCode.SessionExpired });
      return;
    }
    const r = this.state.apply(session, frame.request);
    this.reply(conn, frame.xid, r.error, r.response);
    if (frame.request.op === 'closeSession') conn.close(1000, 'session closed');
  }

  reply(conn: FakeConn, xid: number, error: number, response?: ClientResponse): void {
    conn.send({ kind: 'reply', xid, zxid: this.state.tree.zxid, error, ...(response === undefined ? {} : { response }) });
  }
}
