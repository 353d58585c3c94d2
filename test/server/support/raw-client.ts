// A bare protocol client for server tests: frames in, frames out, replies matched
// by xid, events recorded in arrival order. It knows no retry or failover, so a
// test sees exactly what the server did.
import WebSocket from 'ws';
import {
  type ClientRequest,
  type ServerFrame,
  PROTOCOL_VERSION,
  decodeServerFrame,
  encodeClientFrame,
} from '../../../src/protocol/index.js';

export type Reply = Extract<ServerFrame, { kind: 'reply' }>;
export type Connected = Extract<ServerFrame, { kind: 'connected' }>;

export class RawClient {
  /** Every frame received, in order. */
  readonly frames: ServerFrame[] = [];
  private frameWaiters: (() => void)[] = [];
  private xid = 1;
  closeCode: number | null = null;
  closeReason = '';
  private readonly closed: Promise<void>;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      const frame = decodeServerFrame(new Uint8Array(data));
      this.frames.push(frame);
      const waiting = this.frameWaiters;
      this.frameWaiters = [];
      for (const w of waiting) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        const waiting = this.frameWaiters;
        this.frameWaiters = [];
        for (const w of waiting) w();
        resolve();
      }),
    );
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  /** Opens a connection and creates (or resumes) a session. */
  static async session(url: string, options: { sessionId?: number; password?: Uint8Array; timeoutMs?: number; lastZxidSeen?: number } = {}): Promise<{ client: RawClient; connected: Connected }> {
    const client = await RawClient.open(url);
    const connected = await client.connect(options);
    return { client, connected };
  }

  async connect(options: { sessionId?: number; password?: Uint8Array; timeoutMs?: number; lastZxidSeen?: number } = {}): Promise<Connected> {
    this.sendBytes(
      encodeClientFrame({
        kind: 'connect',
        protocolVersion: PROTOCOL_VERSION,
        sessionId: options.sessionId ?? 0,
        password: options.password ?? new Uint8Array(0),
        sessionTimeoutMs: options.timeoutMs ?? 10_000,
        lastZxidSeen: options.lastZxidSeen ?? 0,
        auth: [],
      }).slice(),
    );
    const frame = await this.nextFrame((f) => f.kind === 'connected' || f.kind === 'close');
    if (frame.kind !== 'connected') throw new Error(`connect refused: ${JSON.stringify(frame)}`);
    return frame;
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** Sends a request and returns its xid. */
  send(request: ClientRequest): number {
    const xid = this.xid++;
    this.sendBytes(encodeClientFrame({ kind: 'request', xid, linearizable: false, request }).slice());
    return xid;
  }

  /** The reply to `xid`; rejects if the connection closes first. */
  async reply(xid: number): Promise<Reply> {
    const frame = await this.nextFrame((f) => f.kind === 'reply' && f.xid === xid);
    return frame as Reply;
  }

  call(request: ClientRequest): Promise<Reply> {
    return this.reply(this.send(request));
  }

  /** The first frame (already received or coming) that matches. */
  async nextFrame(match: (f: ServerFrame) => boolean): Promise<ServerFrame> {
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.closeCode !== null) throw new Error(`connection closed (${this.closeCode} ${this.closeReason}) before the frame arrived`);
      await new Promise<void>((resolve) => this.frameWaiters.push(resolve));
    }
  }

  waitClosed(): Promise<void> {
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}

export const OPEN_ACL = [{ perms: 31, scheme: 'world', id: 'anyone' }] as const;
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** zook's own protocol answers bytes (never null: see Data in src/protocol/types.ts). */
export const text = (data: Uint8Array | null): string => new TextDecoder().decode(data ?? undefined);

export function create(path: string, data = '', mode = 0, returnStat = false): ClientRequest {
  return { op: 'create', path, data: bytes(data), acl: [...OPEN_ACL], mode: mode as 0, ttlMs: 0, returnStat };
}
