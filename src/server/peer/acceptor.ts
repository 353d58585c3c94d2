// The accepting side of peer links: a TCP server on the peer port. Each new
// socket gets a Challenge at once; the first frame back must be a valid Hello from
// a known node with a lower id (see transport.ts for the one-link rule), or the
// socket is closed and the failure counted. Nothing else is read before that.
import { type Server, type Socket, createServer } from 'node:net';
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
  return createServer((raw: Socket) => {
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
        closed: () => {
          sockets.delete(socket);
          clearTimeout(timer);
          if (link !== null) host.linkDown(peerId, link);
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
  });
}
