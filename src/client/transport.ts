// The socket under a connection, kept behind a small interface so the client runs
// on Node (the `ws` package) and in browsers (the native WebSocket), and so tests
// can substitute one. One binary message is one protocol frame.
import { wsTransport as nodeWsTransport } from './node-only.js';

export interface TransportHandlers {
  onOpen(): void;
  /** A message: bytes for a binary one, a string for a text one (a protocol error). */
  onMessage(data: Uint8Array | string): void;
  /** The socket is gone (after an error too); called at most once. */
  onClose(code: number, reason: string): void;
}

export interface Transport {
  send(frame: Uint8Array): void;
  /** Graceful close (a WebSocket close handshake). */
  close(code: number, reason: string): void;
  /** Drop the socket now: for a peer that stopped answering, where a close handshake would wait for it. */
  abort(): void;
}

/** Opens a socket to `url` and reports to `handlers`. */
export type TransportFactory = (url: string, handlers: TransportHandlers) => Transport;

/** The part of the WHATWG WebSocket the client uses (browsers, Deno, Node 22+, and `ws` itself). */
export interface WebSocketLike {
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: WebSocketEventLike) => void): void;
}
export interface WebSocketEventLike {
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A transport over a WHATWG-style WebSocket class (the browser's native one by default). */
export function webSocketTransport(WebSocketClass: WebSocketConstructor): TransportFactory {
  return (url, handlers) => {
    let closed = false;
    const finish = (code: number, reason: string): void => {
      if (closed) return;
      closed = true;
      handlers.onClose(code, reason);
    };
    const socket = new WebSocketClass(url);
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => handlers.onOpen());
    socket.addEventListener('message', (event) => {
      const data = event.data;
      if (typeof data === 'string') handlers.onMessage(data);
      else if (data instanceof ArrayBuffer) handlers.onMessage(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) handlers.onMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      else handlers.onMessage('unsupported message type');
    });
    // A browser reports no detail on 'error'; the 'close' that follows has the code.
    socket.addEventListener('error', () => undefined);
    socket.addEventListener('close', (event) => finish(event.code ?? 1006, event.reason ?? ''));
    return {
      send: (frame) => socket.send(frame),
      close: (code, reason) => {
        try {
          socket.close(code, reason);
        } catch {
          socket.close();
        }
      },
      abort: () => socket.close(),
    };
  };
}

/** Options for the `ws` transport. */
export interface WsTransportOptions {
  /** Largest message accepted from the server; bigger ones close the socket. */
  readonly maxFrameBytes: number;
  /** wss://: PEM CA certificate(s) the server's certificate must chain to (default: Node's trusted roots). */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
}

/** A transport over the `ws` package (Node). Loaded lazily, and never in the browser build (see ./node-only.ts). */
export function wsTransport(options: WsTransportOptions): Promise<TransportFactory> {
  return nodeWsTransport(options);
}

/** The native WebSocket when the platform has one (browsers, Node 22+), otherwise `ws`; `ws` whenever a CA is given (the native one takes none). */
export async function defaultTransport(options: WsTransportOptions): Promise<TransportFactory> {
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof native === 'function' && options.ca === undefined) return webSocketTransport(native);
  return wsTransport(options);
}
