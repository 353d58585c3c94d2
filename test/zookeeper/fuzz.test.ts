// Fuzz of the ZooKeeper-protocol listener: 100,000+ malformed, truncated and oversized
// packets and random handshakes, seeded (ZOOK_FUZZ_SEED reproduces a run), while a
// real client (node-zookeeper-client) writes without pause. The server stays up, its
// RSS (sampled throughout) stays bounded, the client keeps working, and after a
// kill -9 and a restart on the same data dir every write it saw acknowledged is there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { sampleRss, startAckedWriter } from '../support/fuzz-witness.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Socket, connect } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SeededRandom } from '../../src/util/random.js';
import { JuteWriter } from '../../src/zookeeper/jute.js';
import { OpCode } from '../../src/zookeeper/records.js';
import { type ServerProcess, startServerProcess } from '../server/support/server-process.js';
import { type Nzk, connectNzk } from './support/nzk.js';

const SEED = Number(process.env.ZOOK_FUZZ_SEED ?? 20261207);
const TARGET_PACKETS = Number(process.env.ZOOK_FUZZ_PACKETS ?? 100_000);
/** zkMaxFrameBytes for this server: small, so oversized packets are cheap to send. */
const MAX_FRAME = 64 * 1024;
const OPCODES = Object.values(OpCode);

let server: ServerProcess;
let witness: Nzk;
let dir: string;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zook-fuzz-'));
  config = join(dir, 'fuzz.json');
  writeFileSync(config, JSON.stringify({ zkMaxFrameBytes: MAX_FRAME, zkConnectTimeoutMs: 500, maxDataBytes: 32 * 1024, maxFrameBytes: 2 * 1024 * 1024 }));
  server = await startServerProcess({ extraArgs: ['--config', config] });
  witness = await connectNzk(`127.0.0.1:${server.zkPort}`, { sessionTimeout: 20_000 });
  await witness.create('/witness', '0');
}, 30_000);

afterAll(async () => {
  await witness?.close();
  await server?.stop();
  server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
    socket.on('data', () => {}); // read and drop whatever the server answers
  });
}

/** Resolves when the socket has received bytes containing `marker`, or has closed. */
function received(socket: Socket, marker: Buffer): Promise<void> {
  return new Promise((resolve) => {
    let seen = Buffer.alloc(0);
    const done = (): void => {
      socket.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen.subarray(-marker.length), chunk]);
      if (seen.includes(marker)) done();
    };
    socket.on('data', onData);
    socket.once('close', done);
  });
}

/** A ping (xid -2): its reply marks the end of everything sent before it. */
const PING = Buffer.from([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, OpCode.ping]);
const PING_REPLY_XID = Buffer.from([0xff, 0xff, 0xff, 0xfe]);

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

const w = new JuteWriter();

function handshake(rng: SeededRandom, valid: boolean): Uint8Array {
  w.begin().int(valid ? 0 : rng.between(-5, 5)).long(valid ? 0 : rng.int(1 << 30)).int(valid ? 4000 : rng.between(-1000, 100_000));
  w.long(valid ? 0 : rng.int(1 << 30)).buffer(rng.bytes(valid ? 16 : rng.int(40)));
  if (rng.int(2) === 0) w.bool(false);
  return w.frame();
}

/** A request packet with a right length prefix: a known or random opcode and a random body. */
function junkRequest(rng: SeededRandom): Uint8Array {
  const opCode = rng.int(4) === 0 ? rng.between(-20, 200) : OPCODES[rng.int(OPCODES.length)];
  // Now and then xid -1, the events' own: that closes the connection.
  w.begin().int(rng.int(500) === 0 ? -1 : rng.between(1, 1_000_000)).int(opCode);
  const kind = rng.int(4);
  if (kind === 0) w.ustring(`/fuzz/${rng.int(50)}`).buffer(rng.bytes(rng.int(64))).int(rng.between(-2, 3));
  else if (kind === 1) w.int(rng.between(-2, 1_000_000_000)); // a huge vector or string length
  const tail = rng.bytes(rng.int(48));
  const head = w.frame();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  new DataView(out.buffer).setInt32(0, out.length - 4);
  return out;
}

test(`${TARGET_PACKETS} malformed, truncated and oversized packets and random handshakes (seed ${SEED}) while a client writes: the server stays up and bounded, and every acknowledged write survives kill -9`, async () => {
  const rng = new SeededRandom(SEED);
  const pid = server.child.pid!;

  // The writer: its own session, creating /acked/N one after another for as long as the fuzz runs.
  const writer = await connectNzk(`127.0.0.1:${server.zkPort}`, { sessionTimeout: 20_000 });
  await writer.create('/acked', '');
  const writes = startAckedWriter((path, value) => writer.create(path, value));
  const { acked, failures } = writes;
  const rss = sampleRss(pid);
  let packets = 0;
  let round = 0;
  while (packets < TARGET_PACKETS) {
    round++;
    const socket = await open(server.zkPort);
    const shape = rng.int(10);
    if (shape === 0) {
      // Random bytes from the first byte on: a ConnectRequest that is not one.
      socket.write(rng.bytes(rng.between(1, 512)));
      packets++;
    } else if (shape === 1) {
      // A length over jute.maxbuffer (or negative): the connection is closed at once.
      const b = Buffer.alloc(8);
      b.writeInt32BE(rng.int(2) === 0 ? MAX_FRAME + 1 + rng.int(1 << 20) : -1 - rng.int(1000));
      socket.write(b);
      packets++;
    } else if (shape === 2) {
      // A truncated packet, then the client goes away mid-frame.
      const p = handshake(rng, true);
      socket.write(p.subarray(0, rng.between(1, p.length - 1)));
      packets++;
      socket.destroy();
    } else if (shape === 3) {
      // A random handshake.
      socket.write(handshake(rng, false));
      packets++;
    } else if (shape <= 6) {
      // A session, then junk requests run by the server core, then a ping to see them all answered.
      socket.write(handshake(rng, true));
      await received(socket, Buffer.from([0, 0, 0x0f, 0xa0])); // the ConnectResponse's 4000 ms timeout
      const burst: Uint8Array[] = [];
      const n = rng.between(20, 200);
      for (let i = 0; i < n; i++) burst.push(junkRequest(rng));
      socket.write(Buffer.concat([...burst, PING]));
      packets += n + 2;
      await received(socket, PING_REPLY_XID);
    } else {
      // A valid handshake, then a burst of junk requests in one write, sent while the session is being made.
      const burst: Uint8Array[] = [handshake(rng, true)];
      const n = rng.between(50, 400);
      for (let i = 0; i < n; i++) burst.push(junkRequest(rng));
      if (rng.int(3) === 0) burst.push(rng.bytes(rng.between(4, 64))); // a broken tail
      socket.write(Buffer.concat(burst));
      packets += burst.length;
    }
    if (!socket.destroyed) socket.end();
    await closed(socket);
    if (round % 25 === 0) {
      // The witness keeps working while the junk flows.
      await witness.setData('/witness', String(round));
      expect((await witness.getData('/witness')).data).toBe(String(round));
    }
  }
  rss.stop();
  await writes.stop();
  await witness.setData('/witness', 'after');
  expect((await witness.getData('/witness')).data).toBe('after');
  expect(server.child.exitCode).toBeNull();
  expect(failures).toEqual([]);
  expect(acked.length).toBeGreaterThan(10);
  // Connections closed for bad input are logged with the reason (rate-limited).
  expect(server.output()).toMatch(/closed ZooKeeper-protocol connection from [\d.:]+: packet length -?\d+ outside 0\.\.65536 \(jute\.maxbuffer\)/);
  const grownBytes = rss.grownBytes();
  console.log(`fuzz seed ${SEED}: ${packets} packets over ${round} connections; ${acked.length} writes acknowledged meanwhile; server RSS peak ${(grownBytes / 1048576).toFixed(1)} MiB above its start`);
  // Bounded: no per-packet residue (a leak of even 3 KiB per packet would pass 300 MB).
  expect(grownBytes).toBeLessThan(300 * 1024 * 1024);
  await writer.close();
  await witness.close();

  // A crash, and a restart on the same data dir: every acknowledged write is there.
  await server.kill9();
  server = await startServerProcess({ dataDir: server.dataDir, extraArgs: ['--config', config] });
  witness = await connectNzk(`127.0.0.1:${server.zkPort}`, { sessionTimeout: 20_000 });
  const children = new Set(await witness.getChildren('/acked'));
  expect(acked.filter((n) => !children.has(String(n)))).toEqual([]);
  for (let i = 0; i < acked.length; i += 500) {
    const batch = acked.slice(i, i + 500);
    const values = await Promise.all(batch.map(async (n) => (await witness.getData(`/acked/${n}`)).data));
    expect(values).toEqual(batch.map((n) => `value ${n}`));
  }
}, 120_000);
