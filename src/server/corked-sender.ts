// Sends to uWebSockets.js sockets in corked batches. Inside uWS's own callbacks a
// send is corked for free; outside them (replies and watch events that follow an
// fsync) every ws.send is its own syscall, which profiling showed as a third of the
// server's CPU under write load. Frames sent outside a callback are copied and
// queued per socket, and one setImmediate flushes every socket once, corked.
// Order per socket holds: a send inside a callback first flushes that socket's queue.
// Bound: a socket's queue holds what one event-loop turn sent it outside callbacks;
// it counts in the connection's bufferedBytes (ws-server.ts), so the connection's
// limits (Throttled, the outbox's slices, maxBackpressureBytes) see it.
import type { WebSocket } from './uws.js';

export interface CorkedSocket {
  readonly ws: WebSocket<unknown>;
  open: boolean;
  readonly pending: Uint8Array[];
  pendingBytes: number;
}

export class CorkedSender {
  private readonly dirty = new Set<CorkedSocket>();
  private flushScheduled = false;
  /** Depth of uWS callbacks we are inside (sends there are corked by uWS itself). */
  private inCallback = 0;

  /** Runs a uWS callback body: sends inside it go out directly, in order. */
  inside<T>(fn: () => T): T {
    this.inCallback++;
    try {
      return fn();
    } finally {
      this.inCallback--;
    }
  }

  /** Sends `frame` (whose bytes may be reused after this returns); false if the socket is gone. */
  send(socket: CorkedSocket, frame: Uint8Array): boolean {
    if (!socket.open) return false;
    if (this.inCallback > 0) {
      if (socket.pending.length > 0) this.flushSocket(socket);
      return socket.ws.send(frame, true) !== 2;
    }
    socket.pending.push(frame.slice());
    socket.pendingBytes += frame.length;
    this.dirty.add(socket);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushAll);
    }
    return true;
  }

  /** Sends everything queued for `socket` now (before closing it, say). */
  flushSocket(socket: CorkedSocket): void {
    this.dirty.delete(socket);
    if (socket.pending.length === 0) return;
    const frames = socket.pending.splice(0);
    socket.pendingBytes = 0;
    if (!socket.open) return;
    socket.ws.cork(() => {
      for (const frame of frames) socket.ws.send(frame, true);
    });
  }

  private readonly flushAll = (): void => {
    this.flushScheduled = false;
    for (const socket of [...this.dirty]) this.flushSocket(socket);
  };
}
