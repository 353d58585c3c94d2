// The browser build's stand-in for ./node-only.ts (tools/build-browser.mjs swaps it in):
// a page connects through the browser's own WebSocket, which trusts what the browser
// trusts and takes no CA, and has no files to read.
import type { TransportFactory, WsTransportOptions } from './transport.js';

export function wsTransport(_options: WsTransportOptions): Promise<TransportFactory> {
  return Promise.reject(
    new TypeError("zook: the 'ws' transport (wsTransport, ca, tlsCaFile) is for Node; in a browser the native WebSocket is used, and the browser's trust store decides which wss:// certificates it accepts"),
  );
}

export function readFileBytes(path: string): Promise<Uint8Array> {
  return Promise.reject(new TypeError(`zook: tlsCaFile (${path}) is for Node; a browser has no files to read, and its trust store decides which wss:// certificates it accepts`));
}
