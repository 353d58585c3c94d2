// The one place that loads uWebSockets.js. When its native binary does not load
// (another Node ABI or libc), the package silently falls back to a slow JS
// emulation without SSLApp; a coordination server must not run like that by
// accident, so start-up refuses unless the operator asked for it.
import uWS from 'uWebSockets.js';

import type { HttpRequest, HttpResponse, TemplatedApp as UwsApp, us_listen_socket as UwsListenSocket, us_socket_context_t } from 'uWebSockets.js';

export { uWS };
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';

/**
 * A plain App, or an SSLApp serving `tls`'s certificate (no client certificates are
 * asked for). Throws naming the files when uWebSockets.js cannot use them: a server
 * configured for TLS never serves plaintext instead.
 */
export function newApp(tls: { readonly certFile: string; readonly keyFile: string } | null): UwsApp {
  if (tls === null) return uWS.App();
  if (typeof (uWS as { SSLApp?: unknown }).SSLApp !== 'function') throw new Error('TLS is configured but this uWebSockets.js (its JS fallback) has no SSLApp');
  try {
    // No ca_file_name: uSockets would then demand a client certificate of every client.
    return uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile });
  } catch (error) {
    throw new Error(`TLS: the WebSocket port cannot use tlsCertFile ${tls.certFile} with tlsKeyFile ${tls.keyFile} (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** uSockets' LIBUS_LISTEN_EXCLUSIVE_PORT (ListenOptions in the package's types, not exported at run time). */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

/**
 * Listens on host:port with the port to itself: uWebSockets.js otherwise sets
 * SO_REUSEPORT, and a second server on the same port would silently share its
 * connections instead of failing. Resolves with false when the port is taken.
 */
export function listenExclusive(app: UwsApp, host: string, port: number): Promise<UwsListenSocket | false> {
  // This build (20.30) takes host, port, options, callback; its types list only port, options, callback.
  const listen = app.listen.bind(app) as unknown as (host: string, port: number, options: number, cb: (socket: UwsListenSocket | false) => void) => void;
  return new Promise((resolve) => listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, resolve));
}

/** Accepts a WebSocket upgrade with `data` as the new socket's user data (the handshake headers passed through). */
export function acceptUpgrade<T>(res: HttpResponse, req: HttpRequest, context: us_socket_context_t, data: T): void {
  res.upgrade<T>(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
}

/** True when the native uWebSockets.js binary is loaded (the JS fallback lacks getParts). */
export function uwsIsNative(): boolean {
  return typeof (uWS as { getParts?: unknown }).getParts === 'function';
}

/** Throws with a clear message unless uWebSockets.js runs natively or `allowFallback` is set. */
export function requireNativeUws(allowFallback: boolean, warn: (message: string) => void = (m) => console.warn(`zook: WARNING: ${m}`)): void {
  if (uwsIsNative()) return;
  const message =
    'uWebSockets.js did not load its native binary (this Node ABI or libc is not supported) and fell back to a slow JS emulation. ' +
    'zook refuses to run that way; use Node 20 on glibc >= 2.36, or start with --allow-slow-websockets to accept it.';
  if (!allowFallback) throw new Error(message);
  warn(message);
}
