// Live sessions as this server sees them: when each was last heard from, its
// password, its authenticated ids, and the connection it is on. The replicated
// tree knows which sessions exist; only this table knows which are alive.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Id } from '../tree/index.js';

export interface SessionConnection {
  /** Sends a watch event to the client, in its protocol; false if the socket is gone. */
  sendEvent(type: number, path: string, zxid: number): boolean;
  /** Closes the socket with a reason the client can read. */
  closeWith(error: number, reason: string): void;
  /** The session's closeSession was applied: an expiry unless this connection asked for it. */
  sessionEnded(): void;
}

export interface LiveSession {
  readonly id: number;
  readonly timeoutMs: number;
  lastHeardMs: number;
  connection: SessionConnection | null;
  /** Digest ids from addAuth, plus the client's address as an ip id. */
  authIds: Id[];
  /** A closeSession for it is in the log: do not propose another. */
  closing: boolean;
}

/** Session ids: server id in the top 7 of 53 bits, then a counter seeded from the clock. */
const COUNTER_BITS = 46;
const COUNTER_SPACE = 2 ** COUNTER_BITS;
const PASSWORD_BYTES = 16;

export class SessionTable {
  private readonly live = new Map<number, LiveSession>();
  /** Sessions heard from since the last takeHeard(): a follower reports them to the leader. */
  private heard = new Set<number>();
  private counter: number;

  constructor(
    private readonly serverId: number,
    private readonly secret: Uint8Array,
    nowMs: number,
    readonly maxSessions: number,
  ) {
    // A clock-seeded counter keeps ids unique across restarts (as ZooKeeper's
    // initializeNextSessionId): a reconnecting client of a session that died with
    // the old process never finds its id handed to someone else.
    this.counter = (nowMs * 256) % COUNTER_SPACE;
  }

  get size(): number {
    return this.live.size;
  }

  /** A fresh id, unused by any session the tree knows (`taken`). */
  nextId(taken: (id: number) => boolean): number {
    for (;;) {
      this.counter = (this.counter + 1) % COUNTER_SPACE;
      const id = this.serverId * COUNTER_SPACE + this.counter;
      if (id !== 0 && !taken(id) && !this.live.has(id)) return id;
    }
  }

  /** The password a client must show to resume `id`: an HMAC, so nothing needs storing. */
  passwordOf(id: number): Uint8Array {
    return createHmac('sha256', this.secret).update(String(id)).digest().subarray(0, PASSWORD_BYTES);
  }

  passwordMatches(id: number, password: Uint8Array): boolean {
    const expected = this.passwordOf(id);
    return password.length === expected.length && timingSafeEqual(expected, password);
  }

  get(id: number): LiveSession | undefined {
    return this.live.get(id);
  }

  add(id: number, timeoutMs: number, nowMs: number): LiveSession {
    const session: LiveSession = { id, timeoutMs, lastHeardMs: nowMs, connection: null, authIds: [], closing: false };
    this.live.set(id, session);
    return session;
  }

  remove(id: number): LiveSession | undefined {
    const session = this.live.get(id);
    this.live.delete(id);
    return session;
  }

  /** A session named by id was heard from (a follower's ping report). */
  touch(id: number, nowMs: number): void {
    const session = this.live.get(id);
    if (session !== undefined) this.heardFrom(session, nowMs);
  }

  /** This server heard from the session (a request on its connection). */
  heardFrom(session: LiveSession, nowMs: number): void {
    session.lastHeardMs = nowMs;
    this.heard.add(session.id);
  }

  /** The ids touched since the last call. */
  takeHeard(): number[] {
    if (this.heard.size === 0) return [];
    const ids = [...this.heard];
    this.heard = new Set();
    return ids;
  }

  /** Sessions not heard from within their timeout and not already closing. */
  expired(nowMs: number): LiveSession[] {
    const out: LiveSession[] = [];
    for (const session of this.live.values()) {
      if (!session.closing && nowMs - session.lastHeardMs > session.timeoutMs) out.push(session);
    }
    return out;
  }

  values(): IterableIterator<LiveSession> {
    return this.live.values();
  }
}
