// What the peer transport logs: links up and down (and why), refused handshakes, and a
// peer that cannot be linked to (once per outage at warn, each retry at debug).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import type { Log } from '../../src/util/log.js';
import { freePort } from '../server/support/free-port.js';
import { until } from '../support/until.js';
import { startNode } from './support.js';

interface Record_ {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A debug-level pino logger whose records land in `records`. */
function capture(): { log: Log; records: Record_[] } {
  const records: Record_[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString()) as Record_);
      done();
    },
  });
  return { log: pino<never>({ level: 'debug' }, stream), records };
}

const WARN = 40;
const DEBUG = 20;

describe('peer transport logs', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  test('a peer nothing listens for: one warning with its address and the error, then each retry at debug', async () => {
    const { log, records } = capture();
    const a = await startNode(1, cleanups, { log });
    const port = await freePort(); // nothing listens there
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port });
    await until('three dial attempts', () => (a.transport.metrics().dialAttempts >= 3 && records.filter((r) => r.msg.startsWith('cannot link')).length >= 3 ? true : undefined), 10_000, 10);
    const lines = records.filter((r) => r.msg.startsWith('cannot link to server 2'));
    expect(lines.filter((r) => r.level === WARN)).toHaveLength(1);
    expect(lines[0].msg).toBe(`cannot link to server 2 at 127.0.0.1:${port}: ECONNREFUSED (retrying)`);
    expect(lines.slice(1).every((r) => r.level === DEBUG)).toBe(true);
  });

  test('a link coming up is logged, and going down with why (here: the peer shutting down)', async () => {
    const { log, records } = capture();
    const a = await startNode(1, cleanups, { log });
    const b = await startNode(2, []);
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: b.port });
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: a.port });
    await until('the link up line', () => records.find((r) => r.msg === 'link to server 2 up'), 10_000, 10);
    await b.transport.close();
    const down = await until('the link down line', () => records.find((r) => r.msg.startsWith('link to server 2 down')), 10_000, 10);
    expect(down).toMatchObject({ level: WARN, peer: 2, reason: 'the peer is shutting down' });
  });

  test('a handshake with the wrong secret: the acceptor logs it refused with the reason, the dialer that it was refused', async () => {
    const dialer = capture();
    const acceptor = capture();
    const a = await startNode(1, cleanups, { log: dialer.log });
    const b = await startNode(2, cleanups, { log: acceptor.log, secret: 'a different secret, 16+ chars' });
    a.transport.addPeer({ id: 2, host: '127.0.0.1', port: b.port });
    b.transport.addPeer({ id: 1, host: '127.0.0.1', port: a.port });
    const refused = await until('the refusal line', () => acceptor.records.find((r) => r.msg.startsWith('peer link refused')), 10_000, 10);
    expect(refused.level).toBe(WARN);
    expect(typeof refused.reason).toBe('string');
    const failed = await until('the dialer line', () => dialer.records.find((r) => r.msg.startsWith('cannot link to server 2')), 10_000, 10);
    expect(failed.msg).toBe(`cannot link to server 2 at 127.0.0.1:${b.port}: refused: authentication failed (retrying)`);
  });
});
