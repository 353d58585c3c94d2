// The network face of one server: uWebSockets.js serving the binary WebSocket
// client protocol on every path, plus GET /health and GET /metrics on the same port;
// and ZooKeeper's client protocol on zkPort (src/zookeeper), into the same node.
import { ErrorCode } from '../tree/index.js';
import type { ServerConfig } from './config.js';
import { type ClientFrame, ProtocolError, decodeClientFrame } from '../protocol/index.js';
import { type ClientWire, CLOSE_TRY_AGAIN_LATER, ClientConnection, type DisconnectReason } from './connection.js';
import { ConnectionsPerIp, ipOfRawAddress } from './connections-per-ip.js';
import { serverFrameBytes } from './frames.js';
import { type ZkListener, startZkListener } from '../zookeeper/listener.js';
import type { FourLetterConnection } from '../zookeeper/four-letter.js';
import type { CloseReason } from '../zookeeper/connection.js';
import { CorkedSender, type CorkedSocket } from './corked-sender.js';
import type { Ensemble } from './cluster/ensemble.js';
import { ZookNode } from './node.js';
import { nodeStatus } from './node-status.js';
import { registerAdminRoutes } from './admin-http.js';
import { registerConsoleRoutes } from './console-files.js';
import { serverMetrics } from './server-metrics.js';
import { acceptUpgrade, listenExclusive, newApp, requireNativeUws, uWS, type WebSocket, type us_listen_socket } from './uws.js';
import { loadTls } from './tls.js';
import { originAllowed, parseAllowedOrigins } from './origin.js';
import { RateLimitedLog, SILENT_LOG, type Log } from '../util/log.js';
import { clientCloseLevel } from './client-close-log.js';

interface SocketData extends Omit<CorkedSocket, 'ws'> {
  ws: CorkedSocket['ws'] | null;
  connection: ClientConnection | null;
  /** The address this socket counts against maxConnectionsPerIp (set once counted). */
  ip?: string;
}

export interface RunningServer {
  readonly node: ZookNode;
  /** zook's WebSocket + HTTP port. */
  readonly port: number;
  /** ZooKeeper's client-protocol port. */
  readonly zkPort: number;
  /** Both client ports and the peer links speak TLS only (tlsCertFile is set). */
  readonly secure: boolean;
  /**
   * Stops accepting; a leader first hands leadership to a caught-up follower (so a
   * rolling restart costs no election timeout); then waits for this server's writes
   * in flight, closes connections and the WAL.
   */
  close(): Promise<void>;
}

const decoder = new TextDecoder();

/**
 * Closes uWebSockets.js makes on its own, by the message it gives its close handler
 * (the server's other closes go through ClientConnection.closeWith and are counted
 * there). Its closeOnBackpressureLimit close has no message: it looks like a client
 * that vanished, and is not counted.
 */
const UWS_CLOSE_REASONS: Readonly<Record<string, DisconnectReason>> = {
  'Received too big message': 'oversized-frame',
  'Received too big message, or other inflation error': 'oversized-frame',
  'Received invalid UTF-8': 'protocol-error',
  'WebSocket timed out from inactivity': 'idle-timeout',
};

/** zook's own protocol: FlatBuffers frames, one per WebSocket message. */
const WEBSOCKET_WIRE: ClientWire = { encode: serverFrameBytes };

export async function startServer(config: ServerConfig, ensemble: Ensemble | null = null, log: Log = SILENT_LOG): Promise<RunningServer> {
  requireNativeUws(config.allowSlowWebSockets, (message) => log.warn({ component: 'ws' }, message));
  // Read and checked before the data dir is opened: a TLS mistake stops start-up, never falls back to plaintext.
  const tls = loadTls(config, ensemble !== null);
  const origins = parseAllowedOrigins(config.allowedOrigins);
  const node = await ZookNode.open(config, ensemble, log);
  /** Closes and refusals on the WebSocket door; a client can cause them in a flood, so at most 10 lines a second. */
  const wsLog = new RateLimitedLog(log.child({ component: 'ws' }), 10, 'WebSocket connections closed or refused');
  const sockets = new Set<WebSocket<SocketData>>();
  const sender = new CorkedSender();
  const startedMs = Date.now();
  let zk: ZkListener | null = null;
  /** Connections per client address, both doors together (maxConnectionsPerIp). */
  const perIp = new ConnectionsPerIp(config.maxConnectionsPerIp);
  /** Client connections of both doors: maxConnections bounds their sum. */
  const connectionCount = (): number => sockets.size + (zk?.connections.size ?? 0);
  /** Requests received and not yet answered, both doors. */
  const outstandingRequests = (): number => {
    let n = 0;
    for (const ws of sockets) n += ws.getUserData().connection?.inFlight ?? 0;
    for (const c of zk?.connections ?? []) n += c.inFlight;
    return n;
  };
  const metrics = serverMetrics(node, { connections: connectionCount, outstanding: outstandingRequests });
  const answered = (op: string, error: number, startedAtMs: number): void => metrics.answered(op, error, (Date.now() - startedAtMs) / 1000);
  const closedByServer = (reason: DisconnectReason): void => metrics.clientDisconnected(reason);
  /** The ZooKeeper door's own closes (its framing and socket); 'server' ones are the core's, counted by closedByServer. */
  const ZK_CLOSE_REASONS: Readonly<Record<Exclude<CloseReason, 'server'>, DisconnectReason>> = {
    framing: 'protocol-error',
    protocol: 'protocol-error',
    oversized: 'oversized-frame',
    'connect-timeout': 'connect-timeout',
    backpressure: 'backpressure',
  };
  const idleTimeoutSeconds = Math.max(8, Math.ceil((2 * config.maxSessionTimeoutMs) / 1000));

  const app = newApp(tls)
    .ws<SocketData>('/*', {
      // Frames up to twice the limit are read and refused with a reason the client can
      // show; past that uWebSockets.js drops the socket at once (no buffering of junk).
      maxPayloadLength: 2 * config.maxFrameBytes,
      idleTimeout: idleTimeoutSeconds,
      maxBackpressure: config.maxBackpressureBytes,
      // A client that stops reading past maxBackpressure is dropped, never silently skipped.
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => {
        // Browsers let any page open a WebSocket anywhere: only allowed origins (and non-browsers, which send none) get in.
        const origin = req.getHeader('origin');
        if (!originAllowed(origins, origin, req.getHeader('host'), tls !== null)) {
          res.writeStatus('403 Forbidden').end(`zook: WebSocket from origin ${origin.slice(0, 200)} refused (not in allowedOrigins)\n`);
          return;
        }
        acceptUpgrade<SocketData>(res, req, context, { connection: null, open: false, ws: null, pending: [], pendingBytes: 0 });
      },
      open: (ws) => {
        const data = ws.getUserData();
        data.open = true;
        data.ws = ws as unknown as CorkedSocket['ws'];
        const socket = data as CorkedSocket;
        if (connectionCount() >= config.maxConnections) {
          data.open = false;
          metrics.connectionsRefused.inc({ reason: 'max-connections', port: 'ws' });
          wsLog.warn({ reason: 'max-connections', maxConnections: config.maxConnections }, `refused WebSocket connection: server at its maximum of ${config.maxConnections} connections`);
          ws.end(CLOSE_TRY_AGAIN_LATER, `server at its maximum of ${config.maxConnections} connections`);
          return;
        }
        const ip = ipOfRawAddress(ws.getRemoteAddress(), decoder.decode(ws.getRemoteAddressAsText()));
        if (!perIp.tryAdd(ip)) {
          data.open = false;
          metrics.connectionsRefused.inc({ reason: 'per-ip-limit', port: 'ws' });
          wsLog.warn({ remote: ip, reason: 'per-ip-limit' }, `refused WebSocket connection: ${perIp.refusal(ip)}`);
          ws.end(CLOSE_TRY_AGAIN_LATER, perIp.refusal(ip));
          return;
        }
        data.ip = ip;
        sockets.add(ws);
        metrics.connectionsOpened.inc();
        const transport = {
          send: (frame: Uint8Array): boolean => sender.send(socket, frame),
          end: (code: number, reason: string): void => {
            if (!data.open) return;
            sender.flushSocket(socket);
            data.open = false;
            ws.end(code, reason);
          },
          bufferedBytes: (): number => (data.open ? ws.getBufferedAmount() + data.pendingBytes : 0),
        };
        const remote = decoder.decode(ws.getRemoteAddressAsText());
        const connection: ClientConnection = new ClientConnection(
          node,
          WEBSOCKET_WIRE,
          transport,
          remote,
          {
            maxInFlight: config.maxInFlightPerConnection,
            maxInFlightBytes: config.maxInFlightBytesPerConnection,
            maxBufferedBytes: config.maxBufferedBytesPerConnection,
            maxBackpressureBytes: config.maxBackpressureBytes,
            connectTimeoutMs: config.connectTimeoutMs,
          },
          {
            answered,
            closedByServer: (reason, detail) => {
              closedByServer(reason);
              const session = connection.sessionId === 0 ? null : `0x${connection.sessionId.toString(16)}`;
              wsLog.write(clientCloseLevel(reason), { remote, session, reason }, `closed WebSocket connection from ${remote}: ${detail}`);
            },
          },
        );
        data.connection = connection;
      },
      message: (ws, message, isBinary) => sender.inside(() => {
        const connection = ws.getUserData().connection;
        if (connection === null) return;
        if (!isBinary) {
          metrics.framesRejected.inc({ reason: 'text' });
          connection.closeWith(ErrorCode.MarshallingError, 'text frames are not part of the protocol: send binary FlatBuffers frames', 'protocol-error');
          return;
        }
        if (message.byteLength > config.maxFrameBytes) {
          metrics.framesRejected.inc({ reason: 'oversized' });
          connection.closeWith(ErrorCode.BadArguments, `frame of ${message.byteLength} bytes is over maxFrameBytes (${config.maxFrameBytes})`, 'oversized-frame');
          return;
        }
        metrics.received();
        // The ArrayBuffer dies when this callback returns; the decoder copies what it keeps.
        let frame: ClientFrame;
        try {
          frame = decodeClientFrame(new Uint8Array(message));
        } catch (error) {
          metrics.framesRejected.inc({ reason: 'malformed' });
          connection.closeWith(error instanceof ProtocolError ? error.code : ErrorCode.MarshallingError, error instanceof Error ? error.message : 'malformed frame', 'protocol-error');
          return;
        }
        connection.receive(frame, message.byteLength);
      }),
      // uWebSockets.js wrote some of what it had buffered for this client.
      drain: (ws) => ws.getUserData().connection?.drained(),
      close: (ws, _code, message) => {
        const data = ws.getUserData();
        // Still open: this close was not the server's closeWith (counted there) but the client's or uWebSockets.js's.
        if (data.open && data.connection !== null) {
          const reason = UWS_CLOSE_REASONS[decoder.decode(message)];
          if (reason !== undefined) data.connection.closedByLimit(reason, decoder.decode(message));
        }
        data.open = false;
        data.pending.length = 0;
        data.pendingBytes = 0;
        sockets.delete(ws);
        if (data.ip !== undefined) perIp.remove(data.ip);
        data.ip = undefined;
        data.connection?.onClosed();
      },
    })
    .get('/health', (res) => {
      const st = nodeStatus(node);
      // 503 when this server cannot serve (no leader): load balancers and probes skip it.
      const body = JSON.stringify({
        status: st.hasLeader ? 'ok' : 'no leader',
        serverId: st.serverId,
        role: st.role,
        hasLeader: st.hasLeader,
        leader: st.leader,
        term: st.term,
        lastApplied: st.appliedIndex,
        sessions: st.sessions,
        znodes: st.znodes,
      });
      if (!st.hasLeader) res.writeStatus('503 Service Unavailable');
      res.writeHeader('content-type', 'application/json').end(body);
    })
    .get('/metrics', (res) => {
      // prom-client renders through promises: the answer is written later, corked, unless the client left meanwhile.
      let aborted = false;
      res.onAborted(() => (aborted = true));
      const reply = (status: string, body: string): void => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus(status).writeHeader('content-type', metrics.registry.contentType).end(body);
        });
      };
      metrics.registry.metrics().then(
        (text) => reply('200 OK', text),
        (error: unknown) => reply('500 Internal Server Error', `# zook: metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    });
  registerAdminRoutes(app, node);
  // The web console at / (its files read once, now), /ensemble and /admin/sessions.
  registerConsoleRoutes(app, node, tls, () => port);
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').end('zook: WebSocket clients connect to any path; HTTP has / (the web console), /health, /status, /ensemble, /metrics and /admin/*\n');
  });

  const listened = await listenExclusive(app, config.host, config.port);
  if (listened === false) {
    await node.close();
    throw new Error(`cannot listen for WebSocket clients on ${config.host}:${config.port}: the port is in use (another server on it?) or the address is not this machine's`);
  }
  const listenSocket: us_listen_socket = listened;
  const port = uWS.us_socket_local_port(listenSocket);
  try {
    zk = await startZkListener(node, config, tls, {
      events: { answered, closedByServer },
      log: log.child({ component: 'zk-door' }),
      accepted: () => metrics.connectionsOpened.inc(),
      atCapacity: () => connectionCount() >= config.maxConnections,
      perIp,
      refused: (reason) => metrics.connectionsRefused.inc({ reason, port: 'zk' }),
      received: metrics.received,
      closedByServer: (reason) => {
        if (reason === 'server') return;
        if (reason === 'framing' || reason === 'oversized' || reason === 'protocol') metrics.framesRejected.inc({ reason: `zk-${reason}` });
        metrics.clientDisconnected(ZK_CLOSE_REASONS[reason]);
      },
      context: () => ({ connections: describeConnections(), metrics: metrics.registry, startedMs, zkPort: zk?.port ?? config.zkPort, httpPort: port }),
    });
  } catch (error) {
    uWS.us_listen_socket_close(listenSocket);
    await node.close();
    throw error;
  }
  const zkListener = zk;
  node.dataDirLock.describe({ host: config.host, port, zkPort: zkListener.port });
  const describeConnections = (): FourLetterConnection[] => {
    const out: FourLetterConnection[] = [];
    for (const ws of sockets) {
      const c = ws.getUserData().connection;
      if (c !== null) out.push({ remote: decoder.decode(ws.getRemoteAddressAsText()), sessionId: c.sessionId, inFlight: c.inFlight });
    }
    for (const c of zkListener.connections) out.push({ remote: c.remote, sessionId: c.sessionId, inFlight: c.inFlight });
    return out;
  };
  const closeAll = (reason: string, cause: DisconnectReason): void => {
    // One line for all: each connection's own close is logged at debug.
    const clients = connectionCount();
    if (clients > 0) log.child({ component: 'server' })[cause === 'shutdown' ? 'info' : 'warn']({ clients, reason: cause }, `closing ${clients} client connections: ${reason}`);
    for (const ws of [...sockets]) {
      const data = ws.getUserData();
      if (!data.open) continue;
      data.connection?.closeWith(ErrorCode.ConnectionLoss, reason, cause);
    }
    zkListener.closeAll(reason, ErrorCode.ConnectionLoss, cause);
  };
  // The tree was replaced by the leader's snapshot (watches registered here are gone),
  // or this server lost its leader: clients start over, elsewhere if need be.
  node.onReset((reason) => closeAll(reason, 'reset'));

  let closing: Promise<void> | null = null;
  return {
    node,
    port,
    zkPort: zkListener.port,
    secure: tls !== null,
    close(): Promise<void> {
      closing ??= (async () => {
        uWS.us_listen_socket_close(listenSocket);
        const zkClosed = zkListener.close();
        await node.transferLeadership();
        // In-flight writes finish and are applied before the WAL closes; clients then
        // reconnect elsewhere (or here after a restart) with their sessions intact.
        await node.close();
        closeAll('server shutting down', 'shutdown');
        await zkClosed;
      })();
      return closing;
    },
  };
}
