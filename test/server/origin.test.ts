// The browser Origin allow-list on the WebSocket port (allowedOrigins): an upgrade
// whose Origin is neither allowed nor the server's own is refused with 403; one with
// no Origin header (not a browser) is accepted. Real servers in this process, real
// WebSocket handshakes from the `ws` package (which sends the Origin it is given).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveConfig } from '../../src/server/config.js';
import { originAllowed, parseAllowedOrigins } from '../../src/server/origin.js';
import { type RunningServer, startServer } from '../../src/server/ws-server.js';

const dirs: string[] = [];
let byDefault: RunningServer;
let withList: RunningServer;

async function serve(settings: Record<string, unknown>): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'zook-origin-'));
  dirs.push(dir);
  return startServer(resolveConfig({ dataDir: dir, port: 0, zkPort: 0, ...settings }));
}

beforeAll(async () => {
  byDefault = await serve({});
  withList = await serve({ allowedOrigins: 'https://app.example.com, http://localhost:3000' });
});

afterAll(async () => {
  await byDefault?.close();
  await withList?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** 'open' when the upgrade succeeded, else the HTTP status the server answered. */
function upgrade(server: RunningServer, origin: string | undefined): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, origin === undefined ? {} : { origin });
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

describe('allowedOrigins', () => {
  test('by default a browser page from another origin is refused with 403', async () => {
    expect(await upgrade(byDefault, 'https://evil.example')).toBe(403);
  });

  test('by default the server\'s own origin (its own pages) is accepted', async () => {
    expect(await upgrade(byDefault, `http://127.0.0.1:${byDefault.port}`)).toBe('open');
  });

  test('an upgrade with no Origin header (not a browser) is accepted', async () => {
    expect(await upgrade(byDefault, undefined)).toBe('open');
    expect(await upgrade(withList, undefined)).toBe('open');
  });

  test('an origin on the list is accepted; one not on it is refused with 403', async () => {
    expect(await upgrade(withList, 'https://app.example.com')).toBe('open');
    expect(await upgrade(withList, 'http://localhost:3000')).toBe('open');
    expect(await upgrade(withList, 'https://app.example.com.evil.example')).toBe(403);
    expect(await upgrade(withList, 'http://app.example.com')).toBe(403);
    expect(await upgrade(withList, 'null')).toBe(403);
  });
});

describe('parsing and matching origins', () => {
  test('entries must be bare origins', () => {
    expect(() => parseAllowedOrigins('https://app.example.com/path')).toThrow(/not an origin/);
    expect(() => parseAllowedOrigins('app.example.com')).toThrow(/not an origin/);
    expect(() => resolveConfig({ allowedOrigins: 'https://a.example/x' })).toThrow(/allowedOrigins entry/);
    expect([...parseAllowedOrigins('https://A.example:443/').origins]).toEqual(['https://a.example']);
  });

  test('"*" allows any origin; matching ignores case; the own origin follows the scheme', () => {
    expect(originAllowed(parseAllowedOrigins('*'), 'https://anything.example', 'h:1', false)).toBe(true);
    expect(originAllowed(parseAllowedOrigins('https://a.example'), 'HTTPS://A.EXAMPLE', 'h:1', false)).toBe(true);
    expect(originAllowed(parseAllowedOrigins(''), 'https://h:1', 'h:1', true)).toBe(true);
    expect(originAllowed(parseAllowedOrigins(''), 'http://h:1', 'h:1', true)).toBe(false);
  });
});
