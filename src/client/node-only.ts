// What the client takes from Node alone: the `ws` package (for wss:// with a custom CA,
// and on Node 20, which has no global WebSocket) and reading `tlsCaFile`. The browser
// build (tools/build-browser.mjs) swaps this module for ./node-only.browser.ts, so a
// page never loads `ws`, node:fs or Buffer.
import type { TransportFactory, WsTransportOptions } from './transport.js';

function caList(ca: NonNullable<WsTransportOptions['ca']>): (string | Buffer)[] {
  const all: readonly (string | Uint8Array)[] = typeof ca === 'string' || ca instanceof Uint8Array ? [ca] : ca;
  return all.map((c) => (typeof c === 'string' ? c : Buffer.from(c)));
}

/** A transport over the `ws` package, loaded on first use. */
export async function wsTransport(options: WsTransportOptions): Promise<TransportFactory> {
  const { default: WebSocket } = await import('ws');
  return (url, handlers) => {
    let closed = false;
    const socket = new WebSocket(url, {
      maxPayload: options.maxFrameBytes,
      perMessageDeflate: false,
      ...(options.ca === undefined ? {} : { ca: caList(options.ca) }),
    });
    socket.binaryType = 'nodebuffer';
    socket.on('open', () => handlers.onOpen());
    socket.on('message', (data, isBinary) => {
      if (!isBinary) {
        handlers.onMessage(data.toString());
        return;
      }
      // binaryType 'nodebuffer' gives one Buffer (a Uint8Array) per message.
      handlers.onMessage(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data);
    });
    // 'close' always follows 'error' in ws; the listener keeps an error from being thrown,
    // and its message (a refused connection, a certificate not trusted) becomes the reason.
    let error = '';
    socket.on('error', (e) => (error = e.message));
    socket.on('close', (code, reason) => {
      if (closed) return;
      closed = true;
      handlers.onClose(code, reason.length > 0 ? reason.toString() : error);
    });
    return {
      send: (frame) => socket.send(frame),
      close: (code, reason) => socket.close(code, reason),
      abort: () => socket.terminate(),
    };
  };
}

/** The bytes of the file at `path`. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path);
}
