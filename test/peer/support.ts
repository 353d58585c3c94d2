// Helpers for the peer transport tests: transports on 127.0.0.1, waiting on
// transport events (never on fixed sleeps), and a raw TCP client that speaks
// the framing and the handshake by hand to play a stranger or a replaying attacker.
import { type Server, type Socket, connect, createServer } from 'node:net';
import { PeerSocket } from '../../src/server/peer/peer-socket.js';
import { type Message, MessageType, message } from '../../src/consensus/types.js';
import { type PeerFrame, PeerTransport, type PeerTransportOptions, decodePeerFrame } from '../../src/server/peer/index.js';
import { SeededRandom } from '../../src/util/random.js';

export const SECRET = 'correct horse battery staple';
export const CLUSTER = 'test-cluster';

/** Fails a wait that never comes instead of hanging the suite; not a delay. */
const GUARD_MS = 10_000;

export async function startTransport(nodeId: number, over: Partial<PeerTransportOptions> = {}): Promise<{ transport: PeerTransport; port: number }> {
  const rng = new SeededRandom(nodeId);
  const transport = new PeerTransport({
    nodeId,
    clusterId: CLUSTER,
    secret: SECRET,
    reconnectBaseDelayMs: 10,
    reconnectMaxDelayMs: 100,
    handshakeTimeoutMs: 2000,
    random: () => rng.next(),
    ...over,
  });
  return { transport, port: await transport.listen() };
}

/** A started transport whose close is queued on `cleanups`, with every Raft message it receives in `inbox`. */
export async function startNode(
  id: number,
  cleanups: (() => Promise<void>)[],
  over: Partial<PeerTransportOptions> = {},
): Promise<{ transport: PeerTransport; port: number; inbox: Message[] }> {
  const started = await startTransport(id, over);
  cleanups.push(() => started.transport.close());
  const inbox: Message[] = [];
  started.transport.onMessage((m) => inbox.push(m));
  return { ...started, inbox };
}

/**
 * Resolves once `check()` holds, re-checking whenever one of the transports reports
 * a peer up/down, a message, a forward or an auth failure.
 */
export function until(transports: readonly PeerTransport[], check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    const done = (error?: Error): void => {
      clearTimeout(guard);
      for (const off of offs) off();
      if (error === undefined) resolve();
      else reject(error);
    };
    const guard = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), GUARD_MS);
    const recheck = (): void => {
      if (check()) done();
    };
    for (const t of transports) {
      offs.push(t.onPeerUp(recheck), t.onPeerDown(recheck), t.onMessage(recheck), t.onForward(recheck), t.onAuthFailure(recheck));
    }
    recheck();
  });
}

export function heartbeat(from: number, to: number, index: number): Message {
  return message({ type: MessageType.Heartbeat, from, to, term: 1, index });
}

/** A hand-driven peer connection: frames received in order, and how it closed (the peer's close code, 0 without one). */
export class RawPeer {
  private readonly frames: PeerFrame[] = [];
  private waiter: (() => void) | null = null;
  readonly closed: Promise<number>;
  readonly socket: PeerSocket;

  private constructor(raw: Socket) {
    let done: (code: number) => void = () => {};
    this.closed = new Promise((resolve) => (done = resolve));
    this.socket = new PeerSocket(
      raw,
      { maxFrameBytes: 16 * 1024 * 1024, idleTimeoutMs: 60_000 },
      {
        frame: (bytes) => {
          this.frames.push(decodePeerFrame(bytes.slice()));
          this.waiter?.();
        },
        drain: () => {},
        closed: (code) => done(code ?? 0),
      },
    );
  }

  static async dial(port: number): Promise<RawPeer> {
    const raw = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', () => resolve());
      raw.once('error', reject);
    });
    return new RawPeer(raw);
  }

  async next(): Promise<PeerFrame> {
    while (this.frames.length === 0) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = null;
    }
    return this.frames.shift()!;
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  /** Drops the connection without a word (a crashed peer). */
  terminate(): void {
    this.socket.destroy();
  }
}

/** A TCP server that refuses everything but announces each attempt: a dead peer a test can count dials to. */
export class DeadPeer {
  attempts = 0;
  private readonly listeners = new Set<() => void>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<DeadPeer> {
    let dead: DeadPeer | null = null;
    const server = createServer((socket: Socket) => {
      socket.destroy();
      if (dead === null) return;
      dead.attempts++;
      for (const f of dead.listeners) f();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    dead = new DeadPeer(server, typeof address === 'object' && address !== null ? address.port : 0);
    return dead;
  }

  waitForAttempts(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.attempts >= n) {
          this.listeners.delete(check);
          resolve();
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
