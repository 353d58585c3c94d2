// One peer connection over TCP (node:net) or TLS, framed the way ZooKeeper's and
// etcd's server-to-server links are: a length prefix per frame, no masking, no
// HTTP upgrade. A frame on the wire:
//
//   [u32 LE body length][u8 kind][body]
//     kind 0 Data   body = one encoded PeerFrame (codec.ts)
//     kind 1 Ping   empty: keeps an idle link alive and proves the peer is there
//     kind 2 Close  body = u16 LE close code + UTF-8 reason, then the sender ends
//
// Sends made inside cork() leave as one buffer, one socket write: a Ready's
// messages and a turn's forwards cost one syscall per peer, whatever their number.
// A link that hears nothing (not even a ping) for idleTimeoutMs is dead: closed,
// so the dialer redials (a half-open connection after the peer's host vanished).
import type { Socket } from 'node:net';
import { CloseCode } from './link.js';

export const FrameKind = { Data: 0, Ping: 1, Close: 2 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const FRAME_HEADER_BYTES = 5;
/** Longest close reason sent (bytes); longer ones are cut. */
const MAX_CLOSE_REASON_BYTES = 120;
/** A closing socket that has not finished flushing its close frame by then is destroyed. */
const CLOSE_LINGER_MS = 1000;

export interface PeerSocketEvents {
  /** A Data frame's body. The view is only valid during the call: copy what must outlive it. */
  frame(body: Uint8Array): void;
  /** The socket can take more after send() found it over its mark. */
  drain(): void;
  /** The connection is gone; `code` is the peer's close code when it sent one. */
  closed(code: number | null): void;
}

export interface PeerSocketOptions {
  /** Largest frame body accepted or sent. */
  readonly maxFrameBytes: number;
  /** Silence (nothing received) after which the link counts as dead. */
  readonly idleTimeoutMs: number;
  /**
   * The sender stops adding to a corked batch once bufferedBytes() reaches this
   * mark. Node's socket emits 'drain' only after a write it could not finish at
   * once, so a batch that reached the mark and went straight to the kernel is
   * followed by a drain event of our own: the sender carries on.
   */
  readonly flushMarkBytes?: number;
}

function frameHeader(kind: FrameKind, bodyBytes: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(bodyBytes, 0);
  header[4] = kind;
  return header;
}

/** Encodes the header of one frame in front of `body` (one buffer, ready to write). */
export function encodeFrame(kind: FrameKind, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.byteLength);
  frameHeader(kind, body.byteLength).copy(out, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

export class PeerSocket {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** The body being filled across chunks (a frame larger than what one read returned). */
  private body: Buffer | null = null;
  private bodyFill = 0;
  private bodyKind: number = FrameKind.Data;
  /** Inside cork(): frame headers and bodies wait here and leave together, copied once. */
  private corked: Uint8Array[] | null = null;
  private corkedBytes = 0;
  private lastHeardMs = Date.now();
  private readonly idleTimer: NodeJS.Timeout;
  private closing = false;
  private ended = false;
  private peerCloseCode: number | null = null;

  constructor(
    readonly socket: Socket,
    private readonly options: PeerSocketOptions,
    private readonly events: PeerSocketEvents,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      if (!this.closing) this.events.drain();
    });
    socket.on('error', () => {}); // 'close' follows: that is where the link ends
    socket.on('close', () => this.onClose());
    // Checked twice per timeout; a ping each time keeps the peer's own check quiet.
    this.idleTimer = setInterval(() => {
      if (Date.now() - this.lastHeardMs > this.options.idleTimeoutMs) {
        this.close(CloseCode.Idle, 'peer link idle');
        this.socket.destroy();
        return;
      }
      this.write(encodeFrame(FrameKind.Ping, new Uint8Array(0)));
    }, Math.max(10, Math.floor(this.options.idleTimeoutMs / 2)));
    this.idleTimer.unref();
  }

  get open(): boolean {
    return !this.closing && !this.ended;
  }

  /** Queues one Data frame; false when the socket is closing or closed (the frame is dropped). */
  send(body: Uint8Array): boolean {
    if (!this.open) return false;
    if (body.byteLength > this.options.maxFrameBytes) return false;
    if (this.corked !== null) {
      // The body is the caller's queued copy, unchanged until cork() writes: no copy here.
      this.corked.push(frameHeader(FrameKind.Data, body.byteLength), body);
      this.corkedBytes += FRAME_HEADER_BYTES + body.byteLength;
    } else {
      this.write(encodeFrame(FrameKind.Data, body));
    }
    return true;
  }

  /** Bytes written to the socket that the kernel has not taken yet. */
  bufferedBytes(): number {
    return this.socket.writableLength + this.corkedBytes;
  }

  /** Runs `sends` and writes everything they sent as one buffer. */
  cork(sends: () => void): void {
    if (this.corked !== null) return sends();
    this.corked = [];
    this.corkedBytes = 0;
    try {
      sends();
    } finally {
      const frames = this.corked;
      const bytes = this.corkedBytes;
      this.corked = null;
      this.corkedBytes = 0;
      if (frames.length > 0 && this.open) {
        const accepted = this.socket.write(Buffer.concat(frames, bytes));
        const mark = this.options.flushMarkBytes;
        if (accepted && mark !== undefined && bytes >= mark) {
          setImmediate(() => {
            if (this.open) this.events.drain();
          });
        }
      }
    }
  }

  /** Tells the peer why (a Close frame), then ends the connection. Idempotent. */
  close(code: number, reason: string): void {
    if (this.closing || this.ended) return;
    this.closing = true;
    const text = Buffer.from(reason, 'utf8').subarray(0, MAX_CLOSE_REASON_BYTES);
    const body = Buffer.allocUnsafe(2 + text.length);
    body.writeUInt16LE(code & 0xffff, 0);
    text.copy(body, 2);
    if (this.corked !== null) {
      // Frames corked so far go first, then the close frame.
      const frames = this.corked;
      this.corked = [];
      if (frames.length > 0) this.socket.write(Buffer.concat(frames));
    }
    this.socket.end(encodeFrame(FrameKind.Close, body));
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  /** Drops the connection at once (no close frame). */
  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private write(frame: Buffer): void {
    if (this.corked !== null) {
      this.corked.push(frame);
      this.corkedBytes += frame.length;
      return;
    }
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    this.lastHeardMs = Date.now();
    let at = 0;
    while (at < chunk.length && !this.ended && !this.closing) {
      if (this.body !== null) {
        const take = Math.min(this.body.length - this.bodyFill, chunk.length - at);
        chunk.copy(this.body, this.bodyFill, at, at + take);
        this.bodyFill += take;
        at += take;
        if (this.bodyFill < this.body.length) return;
        const body = this.body;
        this.body = null;
        this.deliver(this.bodyKind, body);
        continue;
      }
      const needHeader = FRAME_HEADER_BYTES - this.headerFill;
      if (needHeader > 0) {
        const take = Math.min(needHeader, chunk.length - at);
        chunk.copy(this.header, this.headerFill, at, at + take);
        this.headerFill += take;
        at += take;
        if (this.headerFill < FRAME_HEADER_BYTES) return;
      }
      this.headerFill = 0;
      const length = this.header.readUInt32LE(0);
      const kind = this.header[4];
      if (length > this.options.maxFrameBytes || kind > FrameKind.Close) {
        this.close(CloseCode.ProtocolError, 'peer protocol error');
        return;
      }
      if (chunk.length - at >= length) {
        // The whole body is in this chunk: hand out a view, no copy.
        const body = chunk.subarray(at, at + length);
        at += length;
        this.deliver(kind, body);
      } else {
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
        this.bodyKind = kind;
      }
    }
  }

  private deliver(kind: number, body: Uint8Array): void {
    if (kind === FrameKind.Data) this.events.frame(body);
    else if (kind === FrameKind.Close) {
      this.peerCloseCode = body.byteLength >= 2 ? body[0] | (body[1] << 8) : 0;
      this.closing = true;
      this.socket.destroy();
    }
    // Ping: hearing it was the point (lastHeardMs).
  }

  private onClose(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.idleTimer);
    this.events.closed(this.peerCloseCode);
  }
}
