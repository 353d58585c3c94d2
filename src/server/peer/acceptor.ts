// The accepting side of peer links: a uWebSockets.js app on the peer port. Each new
// socket gets a Challenge at once; the first frame back must be a valid Hello from
// a known node with a lower id (see transport.ts for the one-link rule), or the
// socket is closed and the failure counted. Nothing else is read before that.
import { acceptUpgrade, uWS, type TemplatedApp, type WebSocket } from '../uws.js';
import { NONCE_BYTES, computeProof, newNonce, verifyProof } from './auth.js';
import { PeerProtocolError, decodePeerFrame, encodePeerFrame } from './codec.js';
import { PEER_PROTOCOL_VERSION, type HelloFrame } from './frames.js';
import { CloseCode, type Link, type LinkHost } from './link.js';

interface SocketData {
  open: boolean;
  nonce: Uint8Array;
  peerId: number;
  link: Link | null;
  timer: NodeJS.Timeout | null;
  /** Set once the socket is being closed for a failed handshake: later frames are ignored. */
  refused: boolean;
}

export interface AcceptorOptions {
  /** Bytes a socket may hold unsent before send() reports a drop; well above the transport's flush mark. */
  readonly maxBackpressureBytes: number;
  readonly idleTimeoutSeconds: number;
}

/** Why a Hello is refused, or null when it is good. */
function refuseHello(host: LinkHost, hello: HelloFrame, acceptorNonce: Uint8Array): string | null {
  if (hello.protocolVersion !== PEER_PROTOCOL_VERSION) return `peer protocol version ${hello.protocolVersion} is not ${PEER_PROTOCOL_VERSION}`;
  if (hello.clusterId !== host.clusterId) return 'wrong cluster id';
  if (hello.to !== host.nodeId) return `hello is for node ${hello.to}`;
  if (!host.isPeer(hello.from)) return `node ${hello.from} is not a peer`;
  if (hello.from >= host.nodeId) return `node ${hello.from} must not dial node ${host.nodeId} (the lower id dials)`;
  if (hello.nonce.length !== NONCE_BYTES) return 'bad nonce';
  const input = { role: 'hello' as const, clusterId: host.clusterId, from: hello.from, to: host.nodeId, acceptorNonce, dialerNonce: hello.nonce };
  return verifyProof(host.secret, input, hello.proof) ? null : 'bad proof';
}

export function acceptPeers(app: TemplatedApp, host: LinkHost, options: AcceptorOptions, sockets: Set<WebSocket<SocketData>>): void {
  const fail = (ws: WebSocket<SocketData>, reason: string): void => {
    const data = ws.getUserData();
    if (data.refused || !data.open) return;
    data.refused = true;
    host.authFailure(reason);
    ws.end(CloseCode.AuthFailed, 'peer authentication failed');
  };

  const handshake = (ws: WebSocket<SocketData>, data: SocketData, bytes: Uint8Array): void => {
    let frame;
    try {
      frame = decodePeerFrame(bytes, host.limits);
    } catch (error) {
      if (error instanceof PeerProtocolError) return fail(ws, `undecodable handshake: ${error.message}`);
      throw error;
    }
    if (frame.kind !== 'hello') return fail(ws, `expected hello, got ${frame.kind}`);
    const refusal = refuseHello(host, frame, data.nonce);
    if (refusal !== null) return fail(ws, refusal);
    if (data.timer !== null) clearTimeout(data.timer);
    data.timer = null;
    const proof = computeProof(host.secret, {
      role: 'ack',
      clusterId: host.clusterId,
      from: host.nodeId,
      to: frame.from,
      acceptorNonce: data.nonce,
      dialerNonce: frame.nonce,
    });
    ws.send(encodePeerFrame({ kind: 'helloAck', from: host.nodeId, to: frame.from, proof }), true);
    data.peerId = frame.from;
    data.link = {
      send: (out) => data.open && ws.send(out, true) !== 2,
      bufferedBytes: () => (data.open ? ws.getBufferedAmount() : 0),
      close: (code, reason) => {
        if (data.open) ws.end(code, reason);
      },
      cork: (sends) => {
        if (data.open) ws.cork(sends);
        else sends();
      },
    };
    host.linkUp(frame.from, data.link);
  };

  app.ws<SocketData>('/peer', {
    maxPayloadLength: host.limits.maxFrameBytes,
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: 0,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => acceptUpgrade<SocketData>(res, req, context, { open: false, nonce: newNonce(), peerId: 0, link: null, timer: null, refused: false }),
    open: (ws) => {
      const data = ws.getUserData();
      data.open = true;
      sockets.add(ws);
      data.timer = setTimeout(() => {
        data.timer = null;
        if (!data.open || data.link !== null) return;
        host.handshakeTimeout();
        ws.end(CloseCode.HandshakeTimeout, 'peer handshake timed out');
      }, host.handshakeTimeoutMs);
      ws.send(encodePeerFrame({ kind: 'challenge', nonce: data.nonce }), true);
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      if (data.refused) return;
      if (!isBinary) return fail(ws, 'text frame on a peer link');
      const bytes = new Uint8Array(message);
      if (data.link === null) handshake(ws, data, bytes);
      else host.receive(data.peerId, data.link, bytes);
    },
    drain: (ws) => {
      const data = ws.getUserData();
      if (data.link !== null) host.drained(data.peerId);
    },
    close: (ws) => {
      const data = ws.getUserData();
      data.open = false;
      sockets.delete(ws);
      if (data.timer !== null) clearTimeout(data.timer);
      data.timer = null;
      if (data.link !== null) host.linkDown(data.peerId, data.link);
    },
  });
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').end('zook peer port: peers connect to /peer\n');
  });
}

export { uWS };
export type { SocketData };
