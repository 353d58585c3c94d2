// Peer links with mutual TLS (real handshakes on 127.0.0.1, certificates made by
// openssl for this run): each side presents a certificate the CA signed and checks
// the other's; the shared-secret handshake still runs inside.
import { readFileSync } from 'node:fs';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Message } from '../../src/consensus/types.js';
import type { PeerTls, PeerTransport } from '../../src/server/peer/transport.js';
import { TestPki, type TestCa, type TestCert } from '../support/tls-certs.js';
import { RawPeer, heartbeat, startTransport, until, startNode } from './support.js';

let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
/** Signed by `ca`, names 127.0.0.1. */
let good: TestCert;
/** Signed by `otherCa`. */
let stranger: TestCert;
/** Signed by `ca` but names only another host. */
let elsewhere: TestCert;

beforeAll(() => {
  pki = new TestPki();
  ca = pki.ca('peer-ca');
  otherCa = pki.ca('other-ca');
  good = pki.issue(ca, 'peer');
  stranger = pki.issue(otherCa, 'stranger');
  elsewhere = pki.issue(ca, 'elsewhere', { subjectAltNames: ['DNS:elsewhere.example'] });
});
afterAll(() => pki.cleanup());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tlsOf(cert: TestCert, trusted: TestCa = ca): PeerTls {
  return { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile), ca: readFileSync(trusted.certFile) };
}

function node(id: number, over: Parameters<typeof startTransport>[1] = {}): ReturnType<typeof startNode> {
  return startNode(id, cleanups, over);
}

/** Node 1 dials node 2 (the lower id dials). */
function pair(a: { transport: PeerTransport }, b: { transport: PeerTransport; port: number }): void {
  a.transport.addPeer({ id: 2, host: '127.0.0.1', port: b.port });
  b.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
}

/** A TLS connection to `port`; resolves with the socket once the handshake is done, or rejects with its error. */
function tlsDial(port: number, cert: TestCert | null, trusted: TestCa): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(trusted.certFile),
      ...(cert === null ? {} : { cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile) }),
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Whatever the acceptor sends before it closes the connection (TLS 1.3 checks the client's certificate after the client's side of the handshake is done). */
function readUntilClosed(socket: TLSSocket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

describe('peer links over mutual TLS', () => {
  test('two nodes whose certificates the CA signed link up and deliver both ways', async () => {
    const a = await node(1, { tls: tlsOf(good) });
    const b = await node(2, { tls: tlsOf(good) });
    pair(a, b);
    a.transport.send(heartbeat(1, 2, 7));
    b.transport.send(heartbeat(2, 1, 8));
    await until([a.transport, b.transport], () => a.inbox.length === 1 && b.inbox.length === 1, 'one message each way');
    expect(b.inbox[0]!.index).toBe(7);
    expect(a.inbox[0]!.index).toBe(8);
    expect(a.transport.metrics().authFailures).toBe(0);
    expect(b.transport.metrics().authFailures).toBe(0);
  });

  test('a dialer whose certificate another CA signed is refused in the TLS handshake and counted; the link never comes up', async () => {
    const acceptor = await node(2, { tls: tlsOf(good) });
    // It trusts the right CA (so it would accept the acceptor) but cannot prove itself.
    const intruder = await node(1, { tls: tlsOf(stranger, ca) });
    pair(intruder, acceptor);
    intruder.transport.send(heartbeat(1, 2, 1));
    await until([acceptor.transport], () => acceptor.transport.metrics().authFailures >= 2, 'two refused TLS handshakes');
    expect(acceptor.transport.isUp(1)).toBe(false);
    expect(intruder.transport.isUp(2)).toBe(false);
    expect(acceptor.inbox).toEqual([]);
  });

  test('an acceptor whose certificate another CA signed is refused by the dialer, and counted there', async () => {
    const dialer = await node(1, { tls: tlsOf(good) });
    const impostor = await node(2, { tls: tlsOf(stranger, ca) });
    pair(dialer, impostor);
    dialer.transport.send(heartbeat(1, 2, 1));
    await until([dialer.transport], () => dialer.transport.metrics().authFailures >= 2, 'two refused acceptors');
    expect(dialer.transport.isUp(2)).toBe(false);
    expect(impostor.inbox).toEqual([]);
  });

  test('an acceptor whose certificate does not name the host dialled is refused by the dialer', async () => {
    const dialer = await node(1, { tls: tlsOf(good) });
    const misnamed = await node(2, { tls: tlsOf(elsewhere) });
    pair(dialer, misnamed);
    await until([dialer.transport], () => dialer.transport.metrics().authFailures >= 1, 'a refused acceptor');
    expect(dialer.transport.isUp(2)).toBe(false);
  });

  test('the shared secret still counts: a node with a good certificate and the wrong secret is refused', async () => {
    const acceptor = await node(2, { tls: tlsOf(good) });
    const wrongSecret = await node(1, { tls: tlsOf(good), secret: 'not the ensemble secret at all' });
    pair(wrongSecret, acceptor);
    wrongSecret.transport.send(heartbeat(1, 2, 1));
    await until([acceptor.transport], () => acceptor.transport.metrics().authFailures >= 1, 'a refused Hello');
    expect(acceptor.transport.isUp(1)).toBe(false);
    expect(acceptor.inbox).toEqual([]);
  });

  test('a TLS client with no certificate never gets the Challenge', async () => {
    const acceptor = await node(2, { tls: tlsOf(good) });
    acceptor.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const before = acceptor.transport.metrics().authFailures;
    let received: Buffer = Buffer.alloc(0);
    try {
      received = await readUntilClosed(await tlsDial(acceptor.port, null, ca));
    } catch {
      // Refused during the handshake itself (TLS 1.2): nothing was received either.
    }
    expect(received.length).toBe(0);
    await until([acceptor.transport], () => acceptor.transport.metrics().authFailures > before, 'the refusal counted');
  });

  test('a client presenting a certificate another CA signed never gets the Challenge', async () => {
    const acceptor = await node(2, { tls: tlsOf(good) });
    acceptor.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const before = acceptor.transport.metrics().authFailures;
    let received: Buffer = Buffer.alloc(0);
    try {
      received = await readUntilClosed(await tlsDial(acceptor.port, stranger, ca));
    } catch {
      // Refused during the handshake itself: nothing was received either.
    }
    expect(received.length).toBe(0);
    await until([acceptor.transport], () => acceptor.transport.metrics().authFailures > before, 'the refusal counted');
  });

  test('a plaintext peer gets nothing from a TLS peer port, not even the Challenge', async () => {
    const acceptor = await node(2, { tls: tlsOf(good), handshakeTimeoutMs: 500 });
    acceptor.transport.addPeer({ id: 1, host: '127.0.0.1', port: 0 });
    const raw = await RawPeer.dial(acceptor.port);
    // The TLS server waits for a ClientHello that never comes, then drops the socket without a Close frame.
    expect(await raw.closed).toBe(0);
    expect(acceptor.transport.metrics().handshakeTimeouts).toBeGreaterThanOrEqual(1);
  });
});
