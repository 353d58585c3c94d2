import { afterEach, describe, expect, test } from 'vitest';
import { type Socket, createServer } from 'node:net';
import type { Message } from '../../src/consensus/types.js';
import { MessageType } from '../../src/consensus/types.js';
import { PEER_PROTOCOL_VERSION, type PeerTransport, computeProof, decodePeerFrame, encodePeerFrame, newNonce, secretBytes } from '../../src/server/peer/index.js';
import { PeerSocket } from '../../src/server/peer/peer-socket.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { CLUSTER, DeadPeer, RawPeer, SECRET, heartbeat, startTransport, until, startNode } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function node(id: number, over: Parameters<typeof startTransport>[1] = {}): ReturnType<typeof startNode> {
  return startNode(id, cleanups, over);
}

describe('PeerTransport', () => {
  test('three nodes form a full mesh and deliver in order per link; only the lower id dials', async () => {
    const nodes = [await node(1), await node(2), await node(3)];
    for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.addPeer({ id: b.transport.nodeId, host: '127.0.0.1', port: b.port });
    const transports = nodes.map((n) => n.transport);
    await until(transports, () => transports.every((t) => transports.every((u) => u === t || t.isUp(u.nodeId))), 'full mesh');
    expect(nodes[2]!.transport.metrics().dialAttempts).toBe(0);

    const perLink = 300;
    for (let i = 1; i <= perLink; i++) for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.send(heartbeat(a.transport.nodeId, b.transport.nodeId, i));
    await until(transports, () => nodes.every((n) => n.inbox.length === 2 * perLink), 'all messages');
    for (const n of nodes) {
      for (const from of [1, 2, 3].filter((id) => id !== n.transport.nodeId)) {
        expect(n.inbox.filter((m) => m.from === from).map((m) => m.index)).toEqual(Array.from({ length: perLink }, (_, i) => i + 1));
      }
      const m = n.transport.metrics();
      for (const [, p] of m.peers) {
        expect(p.messagesReceived).toBe(perLink);
        expect(p.messagesSent).toBe(perLink);
        expect(p.bytesSent).toBeGreaterThan(0);
        expect(p.drops).toBe(0);
      }
      expect(m.authFailures).toBe(0);
    }
  });

  test('forwards carry an opaque payload and a u64 correlation id, both ways', async () => {
    const a = await node(1);
    const b = await node(2);
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: b.port });
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const got: [number, bigint, number[]][] = [];
    b.transport.onForward((from, id, payload) => {
      got.push([from, id, [...payload]]);
      b.transport.sendForward(from, payload.reverse(), id + 1n);
    });
    a.transport.onForward((from, id, payload) => got.push([from, id, [...payload]]));
    a.transport.sendForward(2, Uint8Array.from([1, 2, 3]), 2n ** 63n); // queued until the link is up
    await until([a.transport, b.transport], () => got.length === 2, 'forward and reply');
    expect(got).toEqual([
      [1, 2n ** 63n, [1, 2, 3]],
      [2, 2n ** 63n + 1n, [3, 2, 1]],
    ]);
  });

  test('a node with the wrong secret is refused, counted, and cannot inject a message', async () => {
    const good = await node(2);
    const stranger = await node(1, { secret: 'not the ensemble secret at all' });
    good.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    stranger.transport.addPeer({ id: 2, host: '127.0.0.1', port: good.port });
    stranger.transport.send(heartbeat(1, 2, 1));
    await until([good.transport], () => good.transport.metrics().authFailures >= 2, 'two refused handshakes');
    expect(good.transport.isUp(1)).toBe(false);
    expect(stranger.transport.isUp(2)).toBe(false);
    await stranger.transport.close();

    // A raw client that skips the handshake and sends a Raft message straight away.
    const before = good.transport.metrics().authFailures;
    const raw = await RawPeer.dial(good.port);
    expect((await raw.next()).kind).toBe('challenge');
    raw.send(encodePeerFrame({ kind: 'raft', message: heartbeat(1, 2, 99) }));
    expect(await raw.closed).toBe(4001);
    expect(good.transport.metrics().authFailures).toBe(before + 1);
    expect(good.inbox).toEqual([]);
  });

  test('a replayed Hello is refused; a fresh valid one is accepted; a node of another cluster is refused', async () => {
    const acceptor = await node(2);
    acceptor.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const secret = secretBytes(SECRET);

    const legit = await RawPeer.dial(acceptor.port);
    const challenge = await legit.next();
    if (challenge.kind !== 'challenge') throw new Error('expected a challenge');
    const dialerNonce = newNonce();
    const proof = computeProof(secret, { role: 'hello', clusterId: CLUSTER, from: 1, to: 2, acceptorNonce: challenge.nonce, dialerNonce });
    const hello = encodePeerFrame({ kind: 'hello', protocolVersion: PEER_PROTOCOL_VERSION, clusterId: CLUSTER, from: 1, to: 2, nonce: dialerNonce, proof });
    legit.send(hello);
    expect((await legit.next()).kind).toBe('helloAck');
    await until([acceptor.transport], () => acceptor.transport.isUp(1), 'legit link up');
    legit.send(encodePeerFrame({ kind: 'raft', message: heartbeat(1, 2, 7) }));
    await until([acceptor.transport], () => acceptor.inbox.length === 1, 'legit message');

    const replay = await RawPeer.dial(acceptor.port);
    expect((await replay.next()).kind).toBe('challenge');
    replay.send(hello);
    expect(await replay.closed).toBe(4001);
    expect(acceptor.transport.metrics().authFailures).toBe(1);
    expect(acceptor.transport.isUp(1)).toBe(true); // the replay did not disturb the real link

    const foreign = await RawPeer.dial(acceptor.port);
    const c2 = await foreign.next();
    if (c2.kind !== 'challenge') throw new Error('expected a challenge');
    const n2 = newNonce();
    const p2 = computeProof(secret, { role: 'hello', clusterId: 'other', from: 1, to: 2, acceptorNonce: c2.nonce, dialerNonce: n2 });
    foreign.send(encodePeerFrame({ kind: 'hello', protocolVersion: PEER_PROTOCOL_VERSION, clusterId: 'other', from: 1, to: 2, nonce: n2, proof: p2 }));
    expect(await foreign.closed).toBe(4001);
    expect(acceptor.transport.metrics().authFailures).toBe(2);
    legit.terminate();
  });

  test('a newer authenticated link replaces the old one; a forged sender on a good link closes it', async () => {
    const acceptor = await node(2);
    acceptor.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const secret = secretBytes(SECRET);
    const handshake = async (): Promise<RawPeer> => {
      const raw = await RawPeer.dial(acceptor.port);
      const challenge = await raw.next();
      if (challenge.kind !== 'challenge') throw new Error('expected a challenge');
      const nonce = newNonce();
      const proof = computeProof(secret, { role: 'hello', clusterId: CLUSTER, from: 1, to: 2, acceptorNonce: challenge.nonce, dialerNonce: nonce });
      raw.send(encodePeerFrame({ kind: 'hello', protocolVersion: PEER_PROTOCOL_VERSION, clusterId: CLUSTER, from: 1, to: 2, nonce, proof }));
      expect((await raw.next()).kind).toBe('helloAck');
      return raw;
    };
    const first = await handshake();
    const second = await handshake();
    expect(await first.closed).toBe(4003);
    expect(acceptor.transport.isUp(1)).toBe(true);

    second.send(encodePeerFrame({ kind: 'raft', message: heartbeat(3, 2, 1) }));
    expect(await second.closed).toBe(4002);
    expect(acceptor.transport.metrics().protocolErrors).toBe(1);
    expect(acceptor.inbox).toEqual([]);
  });

  test('socket backpressure: a burst far past the socket buffer mark arrives complete and in order, both ways', async () => {
    const opts = { maxSocketBufferedBytes: 16 * 1024, maxQueuedMessages: 10_000 };
    const a = await node(1, opts);
    const b = await node(2, opts);
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: b.port });
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const both = [a.transport, b.transport];
    await until(both, () => a.transport.isUp(2) && b.transport.isUp(1), 'link up');
    const count = 3000;
    const data = new Uint8Array(4096).fill(7);
    const append = (from: number, to: number, i: number): Message => ({
      ...heartbeat(from, to, i),
      type: MessageType.Append,
      entries: [{ term: 1, index: i + 1, type: 1, data }],
    });
    for (let i = 1; i <= count; i++) {
      a.transport.send(append(1, 2, i));
      b.transport.send(append(2, 1, i));
    }
    // Both the dialing and the accepting side had to hold frames back and resume on drain.
    expect(a.transport.metrics().peers.get(2)!.queuedMessages).toBeGreaterThan(0);
    expect(b.transport.metrics().peers.get(1)!.queuedMessages).toBeGreaterThan(0);
    await until(both, () => a.inbox.length === count && b.inbox.length === count, 'the whole burst');
    const expected = Array.from({ length: count }, (_, i) => i + 1);
    expect(a.inbox.map((m) => m.index)).toEqual(expected);
    expect(b.inbox.map((m) => m.index)).toEqual(expected);
    expect(a.transport.metrics().peers.get(2)!.drops).toBe(0);
    expect(b.transport.metrics().peers.get(1)!.drops).toBe(0);
  });

  test('a link cut through a proxy goes down, reconnects after healing, and delivers again', async () => {
    const a = await node(1);
    const b = await node(2);
    const proxy = await TcpProxy.start(b.port);
    cleanups.push(() => proxy.close());
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: proxy.port });
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const both = [a.transport, b.transport];
    await until(both, () => a.transport.isUp(2) && b.transport.isUp(1), 'link up');
    a.transport.send(heartbeat(1, 2, 1));
    b.transport.send(heartbeat(2, 1, 1));
    await until(both, () => a.inbox.length === 1 && b.inbox.length === 1, 'first messages');

    for (let round = 0; round < 3; round++) {
      proxy.cutLinks();
      await until(both, () => !a.transport.isUp(2) && !b.transport.isUp(1), 'link down');
      proxy.heal();
      await until(both, () => a.transport.isUp(2) && b.transport.isUp(1), 'link up again');
      a.transport.send(heartbeat(1, 2, round + 2));
      b.transport.send(heartbeat(2, 1, round + 2));
      await until(both, () => a.inbox.length === round + 2 && b.inbox.length === round + 2, 'messages after healing');
    }
    expect(b.inbox.map((m) => m.index)).toEqual([1, 2, 3, 4]);
    expect(a.transport.metrics().peers.get(2)!.reconnects).toBe(3);
    expect(b.transport.metrics().peers.get(1)!.reconnects).toBe(3);
  });

  test('a full queue drops the oldest non-snapshot messages, counts them, and sends the rest on connect (heartbeats before the snapshot chunk)', async () => {
    const a = await node(1, { maxQueuedMessages: 4 });
    const b = await node(2);
    const proxy = await TcpProxy.start(b.port);
    cleanups.push(() => proxy.close());
    proxy.cutLinks();
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: proxy.port });
    const snapshot: Message = {
      ...heartbeat(1, 2, 100),
      type: MessageType.Snapshot,
      snapshot: { meta: { index: 100, term: 1, membership: { voters: [1, 2], learners: [] } }, offset: 0, data: Uint8Array.from([1]), totalBytes: 1 },
    };
    a.transport.send(snapshot);
    for (let i = 1; i <= 10; i++) a.transport.send(heartbeat(1, 2, i));
    const queued = a.transport.metrics().peers.get(2)!;
    expect(queued.drops).toBe(7);
    expect(queued.queuedMessages).toBe(4);
    proxy.heal();
    await until([b.transport], () => b.inbox.length === 4, 'queued messages');
    expect(b.inbox.map((m) => m.index)).toEqual([8, 9, 10, 100]);
    expect(b.inbox[3]!.snapshot?.data).toEqual(Uint8Array.from([1]));
  });

  test('close() stops reconnecting', async () => {
    const dead = await DeadPeer.start();
    cleanups.push(() => dead.close());
    const a = await node(1, { reconnectBaseDelayMs: 5, reconnectMaxDelayMs: 20 });
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: dead.port });
    await dead.waitForAttempts(3);
    await a.transport.close();
    const attempts = dead.attempts;
    const dials = a.transport.metrics().dialAttempts;
    // Proving an absence takes some time: many times the largest backoff.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(dead.attempts).toBe(attempts);
    expect(a.transport.metrics().dialAttempts).toBe(dials);
  });

  test('a stranger posing as the accepting node fails the HelloAck check and gets nothing', async () => {
    const received: Uint8Array[] = [];
    const server = createServer((raw: Socket) => {
      const socket: PeerSocket = new PeerSocket(
        raw,
        { maxFrameBytes: 1 << 20, idleTimeoutMs: 60_000 },
        {
          frame: (bytes) => {
            received.push(bytes.slice());
            socket.send(encodePeerFrame({ kind: 'helloAck', from: 2, to: 1, proof: new Uint8Array(32).fill(9) }));
          },
          drain: () => {},
          closed: () => {},
        },
      );
      socket.send(encodePeerFrame({ kind: 'challenge', nonce: newNonce() }));
    });
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const a = await node(1);
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port });
    a.transport.send(heartbeat(1, 2, 1));
    await until([a.transport], () => a.transport.metrics().authFailures >= 2, 'refused acks');
    expect(a.transport.isUp(2)).toBe(false);
    expect(received.every((bytes) => decodePeerFrame(bytes).kind === 'hello')).toBe(true);
    expect(a.transport.metrics().peers.get(2)!.messagesSent).toBe(0);
  });

  test('a socket that never says Hello is closed after handshakeTimeoutMs', async () => {
    const b = await node(2, { handshakeTimeoutMs: 100 });
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const silent = await RawPeer.dial(b.port);
    expect(await silent.closed).toBe(4004);
    expect(b.transport.metrics().handshakeTimeouts).toBe(1);
  });

  test('a removed peer is disconnected, stops receiving, and cannot come back', async () => {
    const a = await node(1);
    const b = await node(2);
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: b.port });
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const both = [a.transport, b.transport];
    await until(both, () => a.transport.isUp(2) && b.transport.isUp(1), 'link up');
    b.transport.removePeer(1);
    await until(both, () => !a.transport.isUp(2), 'link down at the removed node');
    await until(both, () => b.transport.metrics().authFailures >= 1, 'the redial refused');
    a.transport.send(heartbeat(1, 2, 1));
    b.transport.send(heartbeat(2, 1, 1));
    expect(a.transport.isUp(2)).toBe(false);
    expect(b.inbox).toEqual([]);
    expect(b.transport.metrics().peers.has(1)).toBe(false);
  });
});
