// A minimal ZooKeeper-protocol client over a raw socket, for what the npm clients
// cannot do: persistent watches (addWatch), checkWatches, whoAmI, hand-made or broken
// packets, and a session that vanishes without closeSession (socket destroyed).
import { Socket, connect } from 'node:net';
import { JuteReader, JuteWriter } from '../../../src/zookeeper/jute.js';
import { OpCode } from '../../../src/zookeeper/records.js';

export interface RawReply {
  readonly xid: number;
  readonly zxid: number;
  readonly err: number;
  readonly body: Uint8Array;
}

export interface RawEvent {
  readonly type: number;
  readonly state: number;
  readonly path: string;
}

export interface RawSession {
  readonly sessionId: number;
  readonly password: Uint8Array;
  readonly timeoutMs: number;
}

/** Jute request bodies, written with the same primitives the server reads. */
export const body = {
  path: (path: string) => (w: JuteWriter) => void w.ustring(path),
  pathWatch: (path: string, watch: boolean) => (w: JuteWriter) => void w.ustring(path).bool(watch),
  /** `data` null: a null buffer (length -1), as ZooKeeper's clients send for no data. */
  create: (path: string, data: string | null, flags = 0) => (w: JuteWriter) =>
    void w.ustring(path).buffer(data === null ? null : Buffer.from(data)).int(1).int(31).ustring('world').ustring('anyone').int(flags),
  setData: (path: string, data: string | null, version = -1) => (w: JuteWriter) => void w.ustring(path).buffer(data === null ? null : Buffer.from(data)).int(version),
  addWatch: (path: string, mode: 0 | 1) => (w: JuteWriter) => void w.ustring(path).int(mode),
  watchType: (path: string, type: number) => (w: JuteWriter) => void w.ustring(path).int(type),
  none: () => () => {},
};

export class RawZkClient {
  readonly events: RawEvent[] = [];
  private readonly waiting: Array<(reply: RawReply) => void> = [];
  private buffer = Buffer.alloc(0);
  private xid = 1;
  private closedFlag = false;
  readonly closed: Promise<void>;
  private connectResolve: ((session: RawSession) => void) | null = null;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.closedFlag = true;
      resolve();
    }));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawZkClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawZkClient(socket);
  }

  /** Wraps a socket already connected (a TLS one, say: the caller did the handshake). */
  static over(socket: Socket): RawZkClient {
    return new RawZkClient(socket);
  }

  /** Opens a socket and a session (or resumes one). */
  static async session(port: number, options: { timeoutMs?: number; resume?: RawSession; lastZxidSeen?: number } = {}): Promise<{ client: RawZkClient; session: RawSession }> {
    const client = await RawZkClient.open(port);
    const session = await client.handshake(options);
    return { client, session };
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  handshake(options: { timeoutMs?: number; resume?: RawSession; lastZxidSeen?: number } = {}): Promise<RawSession> {
    const w = new JuteWriter().begin();
    w.int(0).long(options.lastZxidSeen ?? 0).int(options.timeoutMs ?? 10_000).long(options.resume?.sessionId ?? 0).buffer(options.resume?.password ?? new Uint8Array(16)).bool(false);
    this.socket.write(w.frame());
    return new Promise((resolve) => (this.connectResolve = resolve));
  }

  /** Sends a request and resolves with its reply (replies come in request order). */
  request(opCode: number, write: (w: JuteWriter) => void, xid = this.xid++): Promise<RawReply> {
    const w = new JuteWriter().begin();
    w.int(xid).int(opCode);
    write(w);
    this.socket.write(w.frame());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Bytes as they are: for malformed packets. */
  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }

  async close(): Promise<void> {
    if (!this.closedFlag) {
      await this.request(OpCode.closeSession, () => {});
      this.socket.end();
    }
    await this.closed;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readInt32BE(0);
      if (this.buffer.length < 4 + length) return;
      const packet = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      this.onPacket(packet);
    }
  }

  private onPacket(packet: Buffer): void {
    const r = new JuteReader(packet);
    if (this.connectResolve !== null) {
      r.int();
      const timeoutMs = r.int();
      const sessionId = r.long();
      const password = r.buffer() ?? new Uint8Array(0);
      const resolve = this.connectResolve;
      this.connectResolve = null;
      resolve({ sessionId, password, timeoutMs });
      return;
    }
    const xid = r.int();
    const zxid = r.long();
    const err = r.int();
    if (xid === -1) {
      this.events.push({ type: r.int(), state: r.int(), path: r.ustring() ?? '' });
      return;
    }
    this.waiting.shift()?.({ xid, zxid, err, body: packet.subarray(16) });
  }
}

/** Sends a four-letter word and returns everything the server wrote before closing. */
export async function fourLetterWord(port: number, word: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(word);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return Buffer.concat(chunks).toString();
}
