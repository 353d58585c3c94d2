// The network face of one server: uWebSockets.js serving the binary WebSocket
// client protocol on every path, plus GET /health and GET /metrics on the same port.
import { ErrorCode } from '../tree/index.js';
import type { ServerConfig } from './config.js';
import { ClientConnection } from './connection.js';
import { CorkedSender, type CorkedSocket } from './corked-sender.js';
import type { Ensemble } from './cluster/ensemble.js';
import { ZookNode } from './node.js';
import { nodeStatus } from './node-status.js';
import { registerAdminRoutes } from './admin-http.js';
import { serverMetrics } from './server-metrics.js';
import { acceptUpgrade, requireNativeUws, uWS, type WebSocket, type us_listen_socket } from './uws.js';

interface SocketData extends Omit<CorkedSocket, 'ws'> {
  ws: CorkedSocket['ws'] | null;
  connection: ClientConnection | null;
}

export interface RunningServer {
  readonly node: ZookNode;
  readonly port: number;
  /**
   * Stops accepting; a leader first hands leadership to a caught-up follower (so a
   * rolling restart costs no election timeout); then waits for this server's writes
   * in flight, closes connections and the WAL.
   */
  close(): Promise<void>;
}

const decoder = new TextDecoder();

export async function startServer(config: ServerConfig, ensemble: Ensemble | null = null): Promise<RunningServer> {
  requireNativeUws(config.allowSlowWebSockets);
  const node = await ZookNode.open(config, ensemble);
  const sockets = new Set<WebSocket<SocketData>>();
  const sender = new CorkedSender();
  const metrics = serverMetrics(node, () => sockets.size);
  const idleTimeoutSeconds = Math.max(8, Math.ceil((2 * config.maxSessionTimeoutMs) / 1000));

  const app = uWS
    .App()
    .ws<SocketData>('/*', {
      // Frames up to twice the limit are read and refused with a reason the client can
      // show; past that uWebSockets.js drops the socket at once (no buffering of junk).
      maxPayloadLength: 2 * config.maxFrameBytes,
      idleTimeout: idleTimeoutSeconds,
      maxBackpressure: config.maxBackpressureBytes,
      // A client that stops reading past maxBackpressure is dropped, never silently skipped.
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => acceptUpgrade<SocketData>(res, req, context, { connection: null, open: false, ws: null, pending: [], pendingBytes: 0 }),
      open: (ws) => {
        const data = ws.getUserData();
        data.open = true;
        data.ws = ws as unknown as CorkedSocket['ws'];
        const socket = data as CorkedSocket;
        if (sockets.size >= config.maxConnections) {
          data.open = false;
          ws.end(1013, `server at its maximum of ${config.maxConnections} connections`);
          return;
        }
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
        data.connection = new ClientConnection(
          node,
          transport,
          decoder.decode(ws.getRemoteAddressAsText()),
          { maxInFlight: config.maxInFlightPerConnection, maxBufferedBytes: config.maxBufferedBytesPerConnection },
          {
            answered: (op, error, startedMs) => metrics.answered(op, error, (Date.now() - startedMs) / 1000),
          },
        );
      },
      message: (ws, message, isBinary) => sender.inside(() => {
        const connection = ws.getUserData().connection;
        if (connection === null) return;
        if (!isBinary) {
          metrics.framesRejected.inc({ reason: 'text' });
          connection.onText();
          return;
        }
        if (message.byteLength > config.maxFrameBytes) {
          metrics.framesRejected.inc({ reason: 'oversized' });
          connection.closeWith(ErrorCode.BadArguments, `frame of ${message.byteLength} bytes is over maxFrameBytes (${config.maxFrameBytes})`);
          return;
        }
        // The ArrayBuffer dies when this callback returns; the decoder copies what it keeps.
        connection.onBinary(new Uint8Array(message));
      }),
      close: (ws) => {
        const data = ws.getUserData();
        data.open = false;
        data.pending.length = 0;
        data.pendingBytes = 0;
        sockets.delete(ws);
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
      res.writeHeader('content-type', 'text/plain; version=0.0.4').end(metrics.registry.render());
    });
  registerAdminRoutes(app, node);
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').end('zook: WebSocket clients connect to any path; HTTP has /health, /status, /metrics and /admin/*\n');
  });

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(config.host, config.port, (socket) => {
      if (socket === false) reject(new Error(`zook: cannot listen on ${config.host}:${config.port} (in use?)`));
      else resolve(socket);
    });
  });
  const port = uWS.us_socket_local_port(listenSocket);
  const closeAll = (reason: string): void => {
    for (const ws of [...sockets]) {
      const data = ws.getUserData();
      if (!data.open) continue;
      data.connection?.closeWith(ErrorCode.ConnectionLoss, reason);
    }
  };
  // The tree was replaced by the leader's snapshot (watches registered here are gone),
  // or this server lost its leader: clients start over, elsewhere if need be.
  node.onReset((reason) => closeAll(reason));

  let closing: Promise<void> | null = null;
  return {
    node,
    port,
    close(): Promise<void> {
      closing ??= (async () => {
        uWS.us_listen_socket_close(listenSocket);
        await node.transferLeadership();
        // In-flight writes finish and are applied before the WAL closes; clients then
        // reconnect elsewhere (or here after a restart) with their sessions intact.
        await node.close();
        closeAll('server shutting down');
      })();
      return closing;
    },
  };
}
