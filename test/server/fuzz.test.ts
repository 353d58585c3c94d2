// Fuzz of the WebSocket port: 100,000+ malformed frames (random bytes, text,
// oversized, requests before the connect frame, random handshakes, byte-flipped and
// cut FlatBuffers, well-formed requests full of bad paths, ACLs, versions, modes and
// sizes, xid -1), seeded (ZOOK_FUZZ_SEED reproduces a run). Meanwhile a real client
// writes without pause. The server stays up, its RSS (sampled throughout) stays
// bounded, and after a kill -9 and a restart on the same data dir every write the
// client saw acknowledged is there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { sampleRss, startAckedWriter } from '../support/fuzz-witness.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ZookClient, connect } from '../../src/index.js';
import { type Acl, type ClientFrame, type ClientRequest, type ReadOp, type WriteOp, PROTOCOL_VERSION, decodeServerFrame, encodeClientFrame } from '../../src/protocol/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { type ServerProcess, startServerProcess } from './support/server-process.js';

const SEED = Number(process.env.ZOOK_FUZZ_SEED ?? 20261208);
const TARGET_FRAMES = Number(process.env.ZOOK_FUZZ_FRAMES ?? 100_000);
/** maxFrameBytes for this server: small, so oversized frames are cheap to send. */
const MAX_FRAME = 128 * 1024;
const MAX_DATA = 32 * 1024;
/** The marker request that ends a burst: its reply says the server read everything before it. */
const MARKER_XID = 0x7ffffff0;

let server: ServerProcess;
let dir: string;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zook-ws-fuzz-'));
  config = join(dir, 'fuzz.json');
  writeFileSync(config, JSON.stringify({ maxFrameBytes: MAX_FRAME, maxDataBytes: MAX_DATA, connectTimeoutMs: 500 }));
  server = await startServerProcess({ extraArgs: ['--config', config] });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

// ---- what the fuzzer sends ----

function randomString(rng: SeededRandom, max: number): string {
  const alphabet = ['a', 'Z', '0', '/', '.', ' ', '\u0000', '\u00e9', '\ud83d\ude00', '\ud800', '\t', '-'];
  let s = '';
  const n = rng.int(max + 1);
  for (let i = 0; i < n; i++) s += rng.pick(alphabet);
  return s;
}

/** Paths of every kind of wrong (and some right ones under /fuzz); never the writer's /acked. */
function fuzzPath(rng: SeededRandom): string {
  switch (rng.int(10)) {
    case 0:
      return '';
    case 1:
      return `fuzz/${rng.int(20)}`;
    case 2:
      return `/fuzz//${rng.int(20)}`;
    case 3:
      return '/fuzz/';
    case 4:
      return `/fuzz/${randomString(rng, 12)}`;
    case 5:
      return `/fuzz/${'x'.repeat(rng.between(4000, 5000))}`;
    case 6:
      return rng.pick(['/fuzz/..', '/fuzz/.', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);
    default:
      return `/fuzz/${rng.int(30)}${rng.int(2) === 0 ? '' : `/${rng.int(5)}`}`;
  }
}

function readPath(rng: SeededRandom): string {
  return rng.int(8) === 0 ? rng.pick(['/', '/acked', '/zookeeper']) : fuzzPath(rng);
}

function fuzzAcl(rng: SeededRandom): Acl[] {
  if (rng.int(4) === 0) return [];
  return Array.from({ length: rng.between(1, 3) }, () => ({
    perms: rng.between(-1, 64),
    scheme: rng.pick(['world', 'auth', 'digest', 'ip', 'sasl', 'bogus', '']),
    id: rng.pick(['anyone', 'user:pw', '10.0.0.0/8', '999.1.1.1', randomString(rng, 20)]),
  }));
}

function fuzzData(rng: SeededRandom): Uint8Array {
  const k = rng.int(6);
  return rng.bytes(k === 0 ? rng.between(MAX_DATA - 8, MAX_DATA + 4096) : rng.int(64));
}

/** On some connections enums go out of range now and then (that closes the connection: the frame is malformed). */
let outOfRangeEnums = false;

function enumValue(rng: SeededRandom, min: number, max: number): number {
  return outOfRangeEnums && rng.int(40) === 0 ? rng.pick([min - 1, max + 1, 255]) : rng.between(min, max);
}

function writeOp(rng: SeededRandom): WriteOp {
  const path = fuzzPath(rng);
  switch (rng.int(4)) {
    case 0:
      return { op: 'create', path, data: fuzzData(rng), acl: fuzzAcl(rng), mode: enumValue(rng, 0, 6) as 0, ttlMs: rng.between(-5, 100_000), returnStat: rng.int(2) === 0 };
    case 1:
      return { op: 'delete', path, version: rng.between(-3, 3) };
    case 2:
      return { op: 'setData', path, data: fuzzData(rng), version: rng.between(-3, 3) };
    default:
      return { op: 'check', path, version: rng.between(-3, 3) };
  }
}

function readOp(rng: SeededRandom): ReadOp {
  const path = readPath(rng);
  if (rng.int(2) === 0) return { op: 'getData', path, watch: rng.int(2) === 0 };
  return { op: 'getChildren', path, watch: rng.int(2) === 0, withStat: rng.int(2) === 0, after: randomString(rng, 4), limit: rng.between(-2, 5) };
}

function fuzzRequest(rng: SeededRandom): ClientRequest {
  switch (rng.int(17)) {
    case 0:
    case 1:
      return writeOp(rng) as ClientRequest;
    case 2:
      return readOp(rng);
    case 3:
      return { op: 'exists', path: readPath(rng), watch: rng.int(2) === 0 };
    case 4:
      return { op: 'getAllChildrenNumber', path: readPath(rng) };
    case 5:
      return { op: 'getEphemerals', prefix: randomString(rng, 8) };
    case 6:
      return { op: 'getACL', path: readPath(rng) };
    case 7:
      return { op: 'setACL', path: fuzzPath(rng), acl: fuzzAcl(rng), version: rng.between(-2, 2) };
    case 8:
      return { op: 'sync', path: readPath(rng) };
    case 9:
      return { op: 'multi', ops: Array.from({ length: rng.between(0, 6) }, () => writeOp(rng)) };
    case 10:
      return { op: 'multiRead', ops: Array.from({ length: rng.between(0, 6) }, () => readOp(rng)) };
    case 11:
      return { op: 'addAuth', scheme: rng.pick(['digest', 'world', 'ip', 'bogus', '']), auth: rng.bytes(rng.int(40)) };
    case 12:
      return { op: 'addWatch', path: readPath(rng), mode: enumValue(rng, 0, 1) as 0 };
    case 13:
      return { op: 'removeWatches', path: readPath(rng), watcherType: enumValue(rng, 1, 3) as 1 };
    case 14: {
      const list = (): string[] => Array.from({ length: rng.int(60) }, () => readPath(rng));
      return { op: 'setWatches', relativeZxid: rng.between(-5, 1_000_000), dataWatches: list(), existWatches: list(), childWatches: list(), persistentWatches: list(), persistentRecursiveWatches: list() };
    }
    case 15:
      return rng.pick<ClientRequest>([{ op: 'whoAmI' }, { op: 'ping' }]);
    default:
      // Rarely ends the session: what follows on that connection is not read.
      return rng.int(50) === 0 ? { op: 'closeSession' } : { op: 'ping' };
  }
}

function bytesOf(frame: ClientFrame): Uint8Array | null {
  try {
    return encodeClientFrame(frame).slice();
  } catch {
    return null; // a value the encoder itself refuses (out of a field's range): not sent
  }
}

function connectFrame(rng: SeededRandom, valid: boolean): Uint8Array {
  return bytesOf({
    kind: 'connect',
    protocolVersion: valid ? PROTOCOL_VERSION : rng.between(-2, 3),
    sessionId: valid ? 0 : rng.pick([0, 1, rng.int(1 << 30)]),
    password: valid ? new Uint8Array(0) : rng.bytes(rng.int(40)),
    sessionTimeoutMs: valid ? 4000 : rng.between(-1000, 100_000),
    lastZxidSeen: valid ? 0 : rng.pick([0, rng.int(1 << 30)]),
    auth: valid ? [] : Array.from({ length: rng.int(3) }, () => ({ scheme: rng.pick(['digest', 'bogus']), auth: rng.bytes(rng.int(20)) })),
  })!;
}

function request(rng: SeededRandom, xid: number): Uint8Array | null {
  return bytesOf({ kind: 'request', xid, linearizable: rng.int(8) === 0, request: fuzzRequest(rng) });
}

/** A well-formed frame with bytes flipped, or cut short. */
function mutated(rng: SeededRandom, xid: number): Uint8Array {
  const bytes = request(rng, xid) ?? rng.bytes(32);
  if (rng.int(3) === 0) return bytes.subarray(0, rng.int(bytes.length));
  for (let k = rng.between(1, 4); k > 0; k--) bytes[rng.int(bytes.length)] = rng.int(256);
  return bytes;
}

const MARKER = encodeClientFrame({ kind: 'request', xid: MARKER_XID, linearizable: false, request: { op: 'exists', path: '/', watch: false } }).slice();

interface Conn {
  readonly ws: WebSocket;
  readonly closed: Promise<void>;
  /** Resolves on the first frame from the server, or on close. */
  readonly first: Promise<void>;
  /** Resolves when the marker's reply arrived, or on close. */
  readonly marker: Promise<void>;
}

/** Replies and close notices the fuzzer received: the frames were read and judged, not just dropped. */
const seen = { replies: 0, errors: 0, closes: new Map<string, number>() };

async function open(url: string): Promise<Conn> {
  const ws = new WebSocket(url);
  ws.binaryType = 'nodebuffer';
  let gotFirst: () => void = () => {};
  let gotMarker: () => void = () => {};
  const first = new Promise<void>((resolve) => (gotFirst = resolve));
  const marker = new Promise<void>((resolve) => (gotMarker = resolve));
  const closed = new Promise<void>((resolve) =>
    ws.once('close', () => {
      gotFirst();
      gotMarker();
      resolve();
    }),
  );
  ws.on('error', () => {});
  ws.on('message', (data: Buffer) => {
    gotFirst();
    try {
      const frame = decodeServerFrame(new Uint8Array(data));
      if (frame.kind === 'reply') {
        seen.replies++;
        if (frame.error !== 0) seen.errors++;
        if (frame.xid === MARKER_XID) gotMarker();
      } else if (frame.kind === 'close') {
        const why = frame.reason.replace(/\d+/g, 'N').slice(0, 60);
        seen.closes.set(why, (seen.closes.get(why) ?? 0) + 1);
      }
    } catch {
      // not ours to judge here
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, closed, first, marker };
}

test(`${TARGET_FRAMES} malformed frames (seed ${SEED}) while a client writes: the server stays up and bounded, and every acknowledged write survives kill -9`, async () => {
  const rng = new SeededRandom(SEED);
  const pid = server.child.pid!;

  // The writer: creates /acked/N one after another for as long as the fuzz runs.
  const writer: ZookClient = await connect(server.url, { sessionTimeoutMs: 20_000 });
  await writer.create('/acked');
  await writer.create('/fuzz');
  const writes = startAckedWriter((path, value) => writer.create(path, value));
  const { acked, failures } = writes;
  const rss = sampleRss(pid);
  const stragglers: Promise<void>[] = [];
  let frames = 0;
  let connections = 0;
  try {
    while (frames < TARGET_FRAMES) {
      connections++;
      const c = await open(server.url);
      const send = (bytes: Uint8Array | string | null): void => {
        if (bytes === null || c.ws.readyState !== WebSocket.OPEN) return;
        c.ws.send(bytes);
        frames++;
      };
      const shape = rng.int(20);
      if (shape === 0) send(rng.bytes(rng.between(1, 512))); // random bytes for a connect frame
      else if (shape === 1) send(request(rng, 1)); // a request before the connect frame
      else if (shape === 2) send('{"op":"create"}'); // a text frame
      else if (shape === 3) send(rng.bytes(MAX_FRAME + 1 + rng.int(MAX_FRAME))); // over maxFrameBytes (past twice it, uWS drops the socket)
      else if (shape === 4) send(connectFrame(rng, false)); // a random handshake
      else if (shape === 5 && rng.int(10) === 0) {
        // Silent: the connect deadline closes it (not waited for here).
        stragglers.push(c.closed);
        continue;
      } else {
        send(connectFrame(rng, true));
        // Well-formed requests full of bad values, or byte-flipped ones; sometimes sent before the session is made.
        if (shape < 17) await c.first;
        const flipped = shape >= 18;
        outOfRangeEnums = shape >= 15;
        const n = rng.between(50, 400);
        for (let i = 0; i < n; i++) {
          // Odd xids now and then; -1 (events' own, which closes the connection) only where enums go wrong too.
          const odd = rng.int(100) === 0;
          const xid = odd ? rng.pick([outOfRangeEnums ? -1 : -3, -2, -8, 0, 0x7fffffff, -(1 << 30)]) : i + 1;
          send(flipped ? mutated(rng, xid) : request(rng, xid));
        }
        send(MARKER);
        await c.marker;
      }
      c.ws.terminate();
      await c.closed;
    }
    await Promise.all(stragglers);
  } finally {
    rss.stop();
    await writes.stop();
  }

  expect(server.child.exitCode).toBeNull();
  expect(failures).toEqual([]);
  expect(acked.length).toBeGreaterThan(10);
  const grownBytes = rss.grownBytes();
  console.log(`ws fuzz seed ${SEED}: ${frames} frames over ${connections} connections, ${seen.replies} answered (${seen.errors} with an error code); ${acked.length} writes acknowledged meanwhile; server RSS peak ${(grownBytes / 1048576).toFixed(1)} MiB above its start`);
  console.log(`closes by reason: ${JSON.stringify([...seen.closes].sort((a, b) => b[1] - a[1]).slice(0, 12))}`);
  // Most frames reached the server core and were answered, not just dropped with their connection.
  expect(seen.replies).toBeGreaterThan(TARGET_FRAMES / 2);
  // Bounded: a leak of even 3 KiB per frame would pass 300 MB.
  expect(grownBytes).toBeLessThan(300 * 1024 * 1024);
  await writer.close();

  // A crash, and a restart on the same data dir: every acknowledged write is there.
  await server.kill9();
  server = await startServerProcess({ dataDir: server.dataDir, extraArgs: ['--config', config] });
  const reader = await connect(server.url, { sessionTimeoutMs: 20_000 });
  const children = new Set(await reader.getChildren('/acked'));
  expect(acked.filter((n) => !children.has(String(n)))).toEqual([]);
  for (let i = 0; i < acked.length; i += 500) {
    const batch = acked.slice(i, i + 500);
    const values = await Promise.all(batch.map(async (n) => new TextDecoder().decode((await reader.getData(`/acked/${n}`)).data)));
    expect(values).toEqual(batch.map((n) => `value ${n}`));
  }
  await reader.close();
}, 120_000);
