// ZooKeeper's client port: a TCP listener (2181 by default) whose connections
// are ZkConnections feeding the server core, plus ZooKeeper's four-letter words
// (`echo ruok | nc host 2181`) on the same port. With TLS configured it is TLS only,
// directly on the socket, as ZooKeeper's secureClientPort is (no client certificate
// is asked for; a plaintext client gets no answer).
import { type Server, type Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TlsMaterial } from '../server/tls.js';
import type { ServerConfig } from '../server/config.js';
import type { ConnectionEvents, DisconnectReason } from '../server/connection.js';
import type { ZookNode } from '../server/node.js';
import { type CloseReason, ZkConnection } from './connection.js';
import { type FourLetterContext, fourLetterWord, isFourLetterWord } from './four-letter.js';
import { DEFAULT_ZK_DECODE_LIMITS } from './records.js';
import { type ConnectionsPerIp, normalizeIp } from '../server/connections-per-ip.js';
import { clientCloseLevel } from '../server/client-close-log.js';
import { RateLimitedLog, SILENT_LOG, type Log } from '../util/log.js';

export interface ZkListenerHooks {
  readonly events: ConnectionEvents;
  /** A connection the server closed, with why (for logs and metrics). */
  readonly closedByServer: (reason: CloseReason, detail: string, remote: string) => void;
  readonly accepted: () => void;
  /** True when the server holds its maximum of client connections (both doors together). */
  readonly atCapacity: () => boolean;
  /** Connections per client address, shared with the WebSocket door (maxConnectionsPerIp). */
  readonly perIp: ConnectionsPerIp;
  /** A connection refused at accept (for metrics). */
  readonly refused: (reason: 'max-connections' | 'per-ip-limit') => void;
  /** One request packet read (for the four-letter words' counters). */
  readonly received: () => void;
  /** Everything the four-letter words report beyond the node itself. */
  readonly context: () => Omit<FourLetterContext, 'config' | 'node'>;
  /** Where connections closed or refused by the server are logged (component zk-door; default nowhere). */
  readonly log?: Log;
}

export interface ZkListener {
  readonly port: number;
  readonly connections: ReadonlySet<ZkConnection>;
  /** Closes every connection (clients reconnect, elsewhere if need be). */
  closeAll(reason: string, error: number, cause?: DisconnectReason): void;
  /** Stops accepting; open connections are left to closeAll. */
  close(): Promise<void>;
}

/** Commands allowed by `zkFourLetterWords` ('*' allows every one zook knows). */
function whitelist(setting: string): ReadonlySet<string> | 'all' {
  const words = setting.split(',').map((w) => w.trim()).filter((w) => w !== '');
  return words.includes('*') ? 'all' : new Set(words);
}

export async function startZkListener(node: ZookNode, config: ServerConfig, tls: TlsMaterial | null, hooks: ZkListenerHooks): Promise<ZkListener> {
  const connections = new Set<ZkConnection>();
  // A flood of bad connections cannot flood the log: at most 10 lines a second, the rest counted.
  const log = new RateLimitedLog(hooks.log ?? SILENT_LOG, 10, 'ZooKeeper-protocol connections closed or refused');
  const allowed = whitelist(config.zkFourLetterWords);
  const limits = {
    maxFrameBytes: config.zkMaxFrameBytes,
    maxInFlight: config.maxInFlightPerConnection,
    maxInFlightBytes: config.maxInFlightBytesPerConnection,
    maxBufferedBytes: config.maxBufferedBytesPerConnection,
    maxBackpressureBytes: config.maxBackpressureBytes,
    connectTimeoutMs: config.zkConnectTimeoutMs,
    // ZooKeeper refuses a client that has seen a newer zxid at once, so that it tries
    // the next server; a short wait spares it that hop when this server is just behind.
    maxHandshakeWaitMs: Math.min(1000, config.minSessionTimeoutMs),
    decode: DEFAULT_ZK_DECODE_LIMITS,
  };

  const onSocket = (socket: Socket): void => {
    // Over a limit: closed at once, as ZooKeeper's NIOServerCnxnFactory does ("Too many connections from ...").
    if (hooks.atCapacity()) {
      hooks.refused('max-connections');
      socket.destroy();
      return;
    }
    const ip = normalizeIp(socket.remoteAddress ?? '?');
    if (!hooks.perIp.tryAdd(ip)) {
      hooks.refused('per-ip-limit');
      log.warn({ remote: ip, reason: 'per-ip-limit' }, `refused ZooKeeper-protocol connection: ${hooks.perIp.refusal(ip)}`);
      socket.destroy();
      return;
    }
    socket.once('close', () => hooks.perIp.remove(ip));
    hooks.accepted();
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const events = {
      ...hooks.events,
      received: hooks.received,
      // Closes the server decided (expiry, leader lost, shutdown, limits), with why.
      closedByServer: (reason: DisconnectReason, detail: string): void => {
        hooks.events.closedByServer?.(reason, detail);
        log.write(clientCloseLevel(reason), { remote, session: connection.sessionId === 0 ? null : `0x${connection.sessionId.toString(16)}`, reason }, `closed ZooKeeper-protocol connection from ${remote}: ${detail}`);
      },
    };
    const connection: ZkConnection = new ZkConnection(node, socket, remote, limits, events, (reason, detail) => {
      // Bad input (framing, oversized, connect timeout, ...): the connection is cut without a close frame.
      if (reason !== 'server') log.warn({ remote, reason }, `closed ZooKeeper-protocol connection from ${remote}: ${detail}`);
      hooks.closedByServer(reason, detail, remote);
    });
    connection.onFirstWord = (head) => {
      const word = head.toString('latin1');
      if (!isFourLetterWord(word)) return false;
      connections.delete(connection);
      if (allowed !== 'all' && !allowed.has(word)) socket.end(`${word} is not executed because it is not in the whitelist.\n`);
      else {
        // Async: the numbers come from the metrics registry, which reads them through promises.
        fourLetterWord(word, { ...hooks.context(), config, node }).then(
          (text) => socket.end(text),
          // A report that cannot be made (say, a data-dir file removed while `dirs` walks it) fails that answer, not the server.
          (error: unknown) => socket.end(`${word} failed: ${error instanceof Error ? error.message : String(error)}\n`),
        );
      }
      return true;
    };
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  };
  const server: Server =
    tls === null
      ? createServer({ noDelay: true }, onSocket)
      : createTlsServer({ noDelay: true, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', handshakeTimeout: config.zkConnectTimeoutMs }, onSocket);
  server.on('error', () => {}); // accept errors (EMFILE, ...) must not kill the server
  // A failed TLS handshake (a plaintext client, a client that distrusts the certificate) only ends that socket.
  server.on('tlsClientError', (_error: Error, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(new Error(`zook: cannot listen for ZooKeeper clients on ${config.host}:${config.zkPort} (${error.message})`));
    server.once('error', onError);
    server.listen({ host: config.host, port: config.zkPort, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.zkPort;

  return {
    port,
    connections,
    closeAll(reason, error, cause) {
      for (const connection of [...connections]) connection.closeWith(error, reason, cause);
    },
    close() {
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
