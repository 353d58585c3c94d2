// The accepting side of peer links: a TCP server on the peer port. Each new
// socket gets a Challenge at once; the first frame back must be a valid Hello from
// a known node with a lower id (see transport.ts for the one-link rule), or the
// socket is closed and the failure counted. Nothing else is read before that.
// With TLS the port is a TLS server that demands a client certificate signed by
// the CA: a peer without one fails the TLS handshake (counted the same way) and
// never reaches the Challenge.
import { type Server, type Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { NONCE_BYTES, computeProof, newNonce, verifyProof } from './auth.js';
import { PeerProtocolError, decodePeerFrame, encodePeerFrame } from './codec.js';
import { PEER_PROTOCOL_VERSION, type HelloFrame } from './frames.js';
import { CloseCode, type Link, type LinkHost } from './link.js';
import { PeerSocket } from './peer-socket.js';

export interface AcceptorOptions {
  /** Silence after which an accepted link counts as dead (both sides ping at half of it). */
  readonly idleTimeoutMs: number;
  /** The transport's flush mark (see PeerSocketOptions.flushMarkBytes). */
  readonly flushMarkBytes: number;
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

/** Wraps an authenticated PeerSocket as the transport's Link. */
export function linkOf(socket: PeerSocket): Link {
  return {
    send: (bytes) => socket.send(bytes),
    bufferedBytes: () => socket.bufferedBytes(),
    close: (code, reason) => socket.close(code, reason),
    cork: (sends) => socket.cork(sends),
  };
}

/** A TCP server that authenticates peers and hands their links to `host`; every open socket is in `sockets`. */
export function acceptPeers(host: LinkHost, options: AcceptorOptions, sockets: Set<PeerSocket>): Server {
  const onSocket = (raw: Socket): void => {
    const nonce = newNonce();
    let peerId = 0;
    let link: Link | null = null;
    let refused = false;
    const fail = (reason: string): void => {
      if (refused) return;
      refused = true;
      host.authFailure(reason);
      socket.close(CloseCode.AuthFailed, 'peer authentication failed');
    };
    const handshake = (bytes: Uint8Array): void => {
      let frame;
      try {
        frame = decodePeerFrame(bytes, host.limits);
      } catch (error) {
        if (error instanceof PeerProtocolError) return fail(`undecodable handshake: ${error.message}`);
        throw error;
      }
      if (frame.kind !== 'hello') return fail(`expected hello, got ${frame.kind}`);
      const refusal = refuseHello(host, frame, nonce);
      if (refusal !== null) return fail(refusal);
      clearTimeout(timer);
      const proof = computeProof(host.secret, { role: 'ack', clusterId: host.clusterId, from: host.nodeId, to: frame.from, acceptorNonce: nonce, dialerNonce: frame.nonce });
      socket.send(encodePeerFrame({ kind: 'helloAck', from: host.nodeId, to: frame.from, proof }));
      peerId = frame.from;
      link = linkOf(socket);
      host.linkUp(peerId, link);
    };
    const socket: PeerSocket = new PeerSocket(
      raw,
      { maxFrameBytes: host.limits.maxFrameBytes, idleTimeoutMs: options.idleTimeoutMs, flushMarkBytes: options.flushMarkBytes },
      {
        frame: (bytes) => {
          if (refused) return;
          if (link === null) handshake(bytes);
          else host.receive(peerId, link, bytes);
        },
        drain: () => {
          if (link !== null) host.drained(peerId);
        },
        closed: (code) => {
          sockets.delete(socket);
          clearTimeout(timer);
          if (link !== null) host.linkDown(peerId, link, code);
        },
      },
    );
    sockets.add(socket);
    const timer = setTimeout(() => {
      if (link !== null || refused) return;
      host.handshakeTimeout();
      socket.close(CloseCode.HandshakeTimeout, 'peer handshake timed out');
    }, host.handshakeTimeoutMs);
    socket.send(encodePeerFrame({ kind: 'challenge', nonce }));
  };
  const tls = host.tls;
  if (tls === null) return createServer(onSocket);
  const server = createTlsServer(
    { cert: Buffer.from(tls.cert), key: Buffer.from(tls.key), ca: Buffer.from(tls.ca), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', handshakeTimeout: host.handshakeTimeoutMs },
    onSocket,
  );
  server.on('tlsClientError', (error: Error & { code?: string }, socket: Socket) => {
    if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') host.handshakeTimeout();
    else host.authFailure(`TLS handshake: ${error.message}`);
    socket.destroy();
  });
  return server;
}
