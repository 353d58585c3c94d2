// The log module: the readable line a JSON record becomes, the rate limit for lines a
// client can cause in a flood, and the settings that choose level and format.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, resolveConfig } from '../../src/server/config.js';
import { type Log, RateLimitedLog, prettyLine } from '../../src/util/log.js';

/** A pino logger writing into an array of parsed records. */
function capture(): { log: Log; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino<never>({ level: 'info' }, stream), records };
}

describe('prettyLine', () => {
  test('puts time, level, server id and component first, then msg, then the other fields as key=value', () => {
    const json = JSON.stringify({ level: 'info', time: '2026-12-08T02:00:00.000Z', serverId: 2, component: 'raft', term: 3, reason: 'no word from leader 1', msg: 'starting an election' });
    expect(prettyLine(json)).toBe('2026-12-08T02:00:00.000Z INFO  [2 raft] starting an election term=3 reason="no word from leader 1"\n');
  });

  test('keeps a line that is not JSON as it is', () => {
    expect(prettyLine('not json')).toBe('not json\n');
  });
});

describe('RateLimitedLog', () => {
  test('writes at most perSecond lines in a second, then says how many it left out', () => {
    const { log, records } = capture();
    const limited = new RateLimitedLog(log, 3, 'bad connections');
    for (let i = 0; i < 10; i++) limited.warn({ i }, `line ${i}`);
    expect(records.map((r) => r.msg)).toEqual(['line 0', 'line 1', 'line 2']);
    // The summary comes with the first line of a later second.
    const realNow = Date.now;
    Date.now = () => realNow() + 1500;
    try {
      limited.warn({}, 'later');
    } finally {
      Date.now = realNow;
    }
    expect(records.slice(3).map((r) => r.msg)).toEqual(['7 more bad connections in the last second (not logged one by one)', 'later']);
  });
});

describe('log settings', () => {
  test('default to level info and format auto (pretty on a terminal, JSON otherwise)', () => {
    expect(DEFAULT_CONFIG.logLevel).toBe('info');
    expect(DEFAULT_CONFIG.logFormat).toBe('auto');
  });

  test('an unknown level or format is refused at start-up with the allowed values', () => {
    expect(() => resolveConfig({ logLevel: 'verbose' })).toThrow(/logLevel must be one of trace, debug, info, warn, error, fatal, silent/);
    expect(() => resolveConfig({ logFormat: 'xml' })).toThrow(/logFormat must be auto, pretty or json/);
    expect(resolveConfig({ logLevel: 'debug', logFormat: 'json' })).toMatchObject({ logLevel: 'debug', logFormat: 'json' });
  });
});
